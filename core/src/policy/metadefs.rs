//! Metadata definitions: namespaces and the objects, properties, tags and
//! resource-type associations in them. Reads are for readers of the owning
//! project, or anyone for public namespaces; writes are for administrators.

use super::RuleDefault;

const PROJECT: &[&str] = &["project"];
const ADMIN: &str = "rule:metadef_admin";

macro_rules! read {
    () => {
        "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
    };
}

pub(super) const RULES: &[RuleDefault] = &[
    RuleDefault {
        name: "metadef_default",
        check: "",
        description: "The base of metadef rules that name no other.",
        scope_types: &[],
        operations: &[],
    },
    RuleDefault {
        name: "metadef_admin",
        check: "rule:context_is_admin",
        description: "Who may change metadata definitions.",
        scope_types: &[],
        operations: &[],
    },
    RuleDefault {
        name: "get_metadef_namespace",
        check: read!(),
        description: "Show a namespace: a public one, or one of the caller's project. Also decides whether a caller who may not do something in a namespace gets 403 or 404.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/namespaces/{namespace_name}")],
    },
    RuleDefault {
        name: "get_metadef_namespaces",
        check: "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
        description: "List namespaces (each listed one must also pass get_metadef_namespace).",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/namespaces")],
    },
    RuleDefault {
        name: "modify_metadef_namespace",
        check: ADMIN,
        description: "Replace a namespace's fields.",
        scope_types: PROJECT,
        operations: &[("PUT", "/v2/metadefs/namespaces/{namespace_name}")],
    },
    RuleDefault {
        name: "add_metadef_namespace",
        check: ADMIN,
        description: "Create a namespace.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/metadefs/namespaces")],
    },
    RuleDefault {
        name: "delete_metadef_namespace",
        check: ADMIN,
        description: "Delete a namespace, or every object or property in it.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/metadefs/namespaces/{namespace_name}")],
    },
    RuleDefault {
        name: "get_metadef_object",
        check: read!(),
        description: "Show an object.",
        scope_types: PROJECT,
        operations: &[(
            "GET",
            "/v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
        )],
    },
    RuleDefault {
        name: "get_metadef_objects",
        check: read!(),
        description: "List a namespace's objects.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/namespaces/{namespace_name}/objects")],
    },
    RuleDefault {
        name: "modify_metadef_object",
        check: ADMIN,
        description: "Replace an object.",
        scope_types: PROJECT,
        operations: &[(
            "PUT",
            "/v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
        )],
    },
    RuleDefault {
        name: "add_metadef_object",
        check: ADMIN,
        description: "Create an object.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/metadefs/namespaces/{namespace_name}/objects")],
    },
    RuleDefault {
        name: "delete_metadef_object",
        check: ADMIN,
        description: "Delete an object.",
        scope_types: PROJECT,
        operations: &[(
            "DELETE",
            "/v2/metadefs/namespaces/{namespace_name}/objects/{object_name}",
        )],
    },
    RuleDefault {
        name: "list_metadef_resource_types",
        check: read!(),
        description: "List resource types, or a namespace's resource-type associations.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/resource_types")],
    },
    RuleDefault {
        name: "get_metadef_resource_type",
        check: read!(),
        description: "Read a namespace's resource-type associations.",
        scope_types: PROJECT,
        operations: &[(
            "GET",
            "/v2/metadefs/namespaces/{namespace_name}/resource_types",
        )],
    },
    RuleDefault {
        name: "add_metadef_resource_type_association",
        check: ADMIN,
        description: "Associate a namespace with a resource type.",
        scope_types: PROJECT,
        operations: &[(
            "POST",
            "/v2/metadefs/namespaces/{namespace_name}/resource_types",
        )],
    },
    RuleDefault {
        name: "remove_metadef_resource_type_association",
        check: ADMIN,
        description: "Remove a namespace's association with a resource type.",
        scope_types: PROJECT,
        operations: &[(
            "DELETE",
            "/v2/metadefs/namespaces/{namespace_name}/resource_types/{name}",
        )],
    },
    RuleDefault {
        name: "get_metadef_property",
        check: read!(),
        description: "Show a property.",
        scope_types: PROJECT,
        operations: &[(
            "GET",
            "/v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
        )],
    },
    RuleDefault {
        name: "get_metadef_properties",
        check: read!(),
        description: "List a namespace's properties.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/namespaces/{namespace_name}/properties")],
    },
    RuleDefault {
        name: "modify_metadef_property",
        check: ADMIN,
        description: "Replace a property.",
        scope_types: PROJECT,
        operations: &[(
            "PUT",
            "/v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
        )],
    },
    RuleDefault {
        name: "add_metadef_property",
        check: ADMIN,
        description: "Create a property.",
        scope_types: PROJECT,
        operations: &[(
            "POST",
            "/v2/metadefs/namespaces/{namespace_name}/properties",
        )],
    },
    RuleDefault {
        name: "remove_metadef_property",
        check: ADMIN,
        description: "Delete a property.",
        scope_types: PROJECT,
        operations: &[(
            "DELETE",
            "/v2/metadefs/namespaces/{namespace_name}/properties/{property_name}",
        )],
    },
    RuleDefault {
        name: "get_metadef_tag",
        check: read!(),
        description: "Show a tag.",
        scope_types: PROJECT,
        operations: &[(
            "GET",
            "/v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
        )],
    },
    RuleDefault {
        name: "get_metadef_tags",
        check: read!(),
        description: "List a namespace's tags.",
        scope_types: PROJECT,
        operations: &[("GET", "/v2/metadefs/namespaces/{namespace_name}/tags")],
    },
    RuleDefault {
        name: "modify_metadef_tag",
        check: ADMIN,
        description: "Rename a tag.",
        scope_types: PROJECT,
        operations: &[(
            "PUT",
            "/v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
        )],
    },
    RuleDefault {
        name: "add_metadef_tag",
        check: ADMIN,
        description: "Create one tag.",
        scope_types: PROJECT,
        operations: &[(
            "POST",
            "/v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
        )],
    },
    RuleDefault {
        name: "add_metadef_tags",
        check: ADMIN,
        description: "Create tags in bulk, appending to or replacing a namespace's tags.",
        scope_types: PROJECT,
        operations: &[("POST", "/v2/metadefs/namespaces/{namespace_name}/tags")],
    },
    RuleDefault {
        name: "delete_metadef_tag",
        check: ADMIN,
        description: "Delete a tag.",
        scope_types: PROJECT,
        operations: &[(
            "DELETE",
            "/v2/metadefs/namespaces/{namespace_name}/tags/{tag_name}",
        )],
    },
    RuleDefault {
        name: "delete_metadef_tags",
        check: ADMIN,
        description: "Delete every tag of a namespace.",
        scope_types: PROJECT,
        operations: &[("DELETE", "/v2/metadefs/namespaces/{namespace_name}/tags")],
    },
];
