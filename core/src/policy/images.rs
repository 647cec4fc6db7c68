//! Images: create, read, change, delete, data, locations, actions, copy.

use super::RuleDefault;

const PROJECT: &[&str] = &["project"];

macro_rules! admin_or_member {
    () => {
        "rule:context_is_admin or (role:member and project_id:%(project_id)s)"
    };
}

macro_rules! visible_to {
    ($role:literal) => {
        concat!(
            "rule:context_is_admin or (role:",
            $role,
            " and (project_id:%(project_id)s or project_id:%(member_id)s or \
             'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s))"
        )
    };
}

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "add_image",
        check: "rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)",
        description: "Create an image, owned by the caller's project.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images")],
    },
    RuleDefault {
        name: "delete_image",
        check: admin_or_member!(),
        description: "Delete an image of the caller's project.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "get_image",
        check: visible_to!("reader"),
        description: "Show an image: the project's own, one shared with it, or a public, community or shared one.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "get_images",
        check: "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
        description: "List images.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images")],
    },
    RuleDefault {
        name: "modify_image",
        check: admin_or_member!(),
        description: "Change an image of the caller's project.",
        scope_types: PROJECT,
        operations: &[("PATCH", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "publicize_image",
        check: "rule:context_is_admin",
        description: "Make an image public (at create or by a change).",
        scope_types: PROJECT,
        operations: &[("PATCH", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "communitize_image",
        check: admin_or_member!(),
        description: "Make an image community-visible (at create or by a change).",
        scope_types: PROJECT,
        operations: &[("PATCH", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "download_image",
        check: visible_to!("member"),
        description: "Download an image's data.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}/file")],
    },
    RuleDefault {
        name: "download_from_store",
        check: visible_to!("member"),
        description: "Download an image's data from a store the request names.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}/file")],
    },
    RuleDefault {
        name: "upload_image",
        check: admin_or_member!(),
        description: "Upload an image's data.",
        scope_types: PROJECT,
        operations: &[("PUT", "/v2/images/{image_id}/file")],
    },
    RuleDefault {
        name: "delete_image_location",
        check: "rule:context_is_admin",
        description: "Remove a location from an image.",
        scope_types: PROJECT,
        operations: &[("PATCH", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "get_image_location",
        check: "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
        description: "See an image's locations in its representation.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "set_image_location",
        check: admin_or_member!(),
        description: "Set or add an image's locations by a change.",
        scope_types: PROJECT,
        operations: &[("PATCH", "/v2/images/{image_id}")],
    },
    RuleDefault {
        name: "add_image_location",
        check: "rule:service_api or (role:member and project_id:%(project_id)s and project_id:%(owner)s)",
        description: "Add a location to an image through the locations API.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images/{image_id}/locations")],
    },
    RuleDefault {
        name: "fetch_image_location",
        check: "rule:service_api",
        description: "List an image's locations through the locations API.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/images/{image_id}/locations")],
    },
    RuleDefault {
        name: "deactivate",
        check: admin_or_member!(),
        description: "Deactivate an image.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images/{image_id}/actions/deactivate")],
    },
    RuleDefault {
        name: "reactivate",
        check: admin_or_member!(),
        description: "Reactivate a deactivated image.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images/{image_id}/actions/reactivate")],
    },
    RuleDefault {
        name: "copy_image",
        check: "rule:context_is_admin",
        description: "Copy an existing image's data to more stores (the copy-image import method).",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/images/{image_id}/import")],
    },
];
