//! The rules other rules build on.

use super::RuleDefault;

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "default",
        check: "",
        description: "The rule of operations that name no rule of their own. Empty: anyone.",
        scope_types: &[],
        operations: &[],
    },
    RuleDefault {
        name: "context_is_admin",
        check: "role:admin",
        description: "Who counts as an administrator: callers with the admin role.",
        scope_types: &[],
        operations: &[],
    },
    RuleDefault {
        name: "service_api",
        check: "role:service or role:admin",
        description: "Callers of the service-to-service operations (other OpenStack services). \
                      The admin role is kept for services that do not send a service-role token.",
        scope_types: &[],
        operations: &[],
    },
];
