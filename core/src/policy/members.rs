//! Image members: sharing an image with other projects.

use super::RuleDefault;

const PROJECT: &[&str] = &["project"];

macro_rules! owner_or_member_reads {
    () => {
        "rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)"
    };
}

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "add_member",
        check: "rule:context_is_admin or (role:member and project_id:%(project_id)s)",
        description: "Share an image of the caller's project with another project.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images/{image_id}/members")],
    },
    RuleDefault {
        name: "delete_member",
        check: "rule:context_is_admin or (role:member and project_id:%(project_id)s)",
        description: "Stop sharing an image with a project.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/images/{image_id}/members/{member_id}")],
    },
    RuleDefault {
        name: "get_member",
        check: owner_or_member_reads!(),
        description: "Show one member of an image: to its owner and to that member.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}/members/{member_id}")],
    },
    RuleDefault {
        name: "get_members",
        check: owner_or_member_reads!(),
        description: "List an image's members: all of them for its owner, its own entry for a member.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}/members")],
    },
    RuleDefault {
        name: "modify_member",
        check: "rule:context_is_admin or (role:member and project_id:%(member_id)s)",
        description: "Accept or reject an image shared with the caller's project.",
        scope_types: PROJECT,
        operations: &[("PUT", "/v2/images/{image_id}/members/{member_id}")],
    },
];
