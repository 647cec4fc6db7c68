//! Tasks: the legacy tasks API and the tasks imports run as.

use super::RuleDefault;

const PROJECT: &[&str] = &["project"];

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "get_task",
        check: "rule:default",
        description: "Show a task. Also checked by operations that run tasks (import): \
                      keep it no stricter than the import rules.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/tasks/{task_id}")],
    },
    RuleDefault {
        name: "get_tasks",
        check: "rule:default",
        description: "List tasks.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/tasks")],
    },
    RuleDefault {
        name: "add_task",
        check: "rule:default",
        description: "Create a task. Also checked by operations that run tasks (import).",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/tasks")],
    },
    RuleDefault {
        name: "modify_task",
        check: "rule:default",
        description: "Change a task. Deprecated: no operation checks it.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/tasks/{task_id}")],
    },
    RuleDefault {
        name: "tasks_api_access",
        check: "rule:context_is_admin",
        description: "Use the tasks API at all: every tasks operation checks it first.",
        scope_types: PROJECT,
        operations: &[
            ("GET", "/v2/tasks/{task_id}"),
            ("GET", "/v2/tasks"),
            ("POST", "/v2/tasks"),
            ("DELETE", "/v2/tasks/{task_id}"),
        ],
    },
];
