-- Metadata definitions (metadefs): namespaces and what they hold. Same value
-- shapes and utf8mb4_bin collation as the image tables. Namespaces and
-- resource types carry a surrogate key so that renaming a namespace is one row
-- update; the rows they hold are keyed by (namespace_id, name) and go with
-- their namespace.

CREATE TABLE metadef_namespaces (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    namespace    VARCHAR(80) NOT NULL,
    display_name VARCHAR(80),
    description  TEXT,
    visibility   VARCHAR(32) NOT NULL,
    protected    SMALLINT NOT NULL,
    owner        VARCHAR(255),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE INDEX uq_metadef_namespaces_namespace (namespace),
    -- List sorts end in created_at, namespace.
    INDEX ix_metadef_namespaces_created_at (created_at, namespace),
    INDEX ix_metadef_namespaces_updated_at (updated_at, created_at, namespace),
    INDEX ix_metadef_namespaces_owner (owner)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE metadef_resource_types (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name       VARCHAR(80) NOT NULL,
    protected  SMALLINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE INDEX uq_metadef_resource_types_name (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE metadef_namespace_resource_types (
    namespace_id      BIGINT NOT NULL,
    resource_type_id  BIGINT NOT NULL,
    prefix            VARCHAR(80),
    properties_target VARCHAR(80),
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, resource_type_id),
    INDEX ix_metadef_ns_rt_resource_type (resource_type_id),
    FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    FOREIGN KEY (resource_type_id) REFERENCES metadef_resource_types (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE metadef_objects (
    namespace_id BIGINT NOT NULL,
    name         VARCHAR(80) NOT NULL,
    description  TEXT,
    -- A JSON array of property names.
    required     TEXT NOT NULL,
    -- A JSON object: property name to property definition.
    properties   MEDIUMTEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name),
    FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE metadef_properties (
    namespace_id BIGINT NOT NULL,
    name         VARCHAR(80) NOT NULL,
    -- A JSON object: the property's JSON-Schema definition.
    json_schema  MEDIUMTEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name),
    FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE metadef_tags (
    namespace_id BIGINT NOT NULL,
    name         VARCHAR(80) NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name),
    INDEX ix_metadef_tags_created_at (namespace_id, created_at, name),
    FOREIGN KEY (namespace_id) REFERENCES metadef_namespaces (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
