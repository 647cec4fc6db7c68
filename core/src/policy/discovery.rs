//! Discovery (`/v2/info/...`). Only the detailed store list is protected:
//! the store list, import methods and usage are open to every caller.

use super::RuleDefault;

pub(super) const RULES: &[RuleDefault] = &[RuleDefault {
    name: "stores_info_detail",
    check: "rule:context_is_admin or rule:service_api",
    description: "List stores with their driver-specific properties.",
    scope_types: &["project"],
    operations: &[("GET", "/v2/info/stores/detail")],
}];
