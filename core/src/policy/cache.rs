//! The image cache: its management API and the nodes that cache an image.

use super::RuleDefault;

const PROJECT: &[&str] = &["project"];

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "manage_image_cache",
        check: "rule:context_is_admin",
        description: "Manage the image cache (the legacy cache-manage middleware).",
        scope_types: PROJECT,
        operations: &[],
    },
    RuleDefault {
        name: "list_cached_nodes",
        check: "rule:context_is_admin",
        description: "List the API nodes that cache an image.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/cache/nodes/{image_id}")],
    },
    RuleDefault {
        name: "cache_image",
        check: "rule:context_is_admin",
        description: "Queue an image for caching.",
        scope_types: PROJECT,
        operations: &[("PUT", "/v2/cache/{image_id}")],
    },
    RuleDefault {
        name: "cache_list",
        check: "rule:context_is_admin",
        description: "List cached and queued images.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/cache")],
    },
    RuleDefault {
        name: "cache_delete",
        check: "rule:context_is_admin",
        description: "Remove one image, or every image, from the cache.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/cache"), ("DELETE", "/v2/cache/{image_id}")],
    },
    RuleDefault {
        name: "cache_clean",
        check: "rule:context_is_admin",
        description: "Remove invalid and stalled entries from the cache.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/cache/clean")],
    },
    RuleDefault {
        name: "cache_prune",
        check: "rule:context_is_admin",
        description: "Shrink the cache to its size limit.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/cache/prune")],
    },
];
