-- Metadata definitions (metadefs): namespaces and what they hold. Same value
-- shapes and "C" collation as the image tables. Namespaces and resource types
-- carry a surrogate key so that renaming a namespace is one row update; the
-- rows they hold are keyed by (namespace_id, name) and go with their namespace.

CREATE TABLE metadef_namespaces (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    namespace    VARCHAR(80) COLLATE "C" NOT NULL UNIQUE,
    display_name VARCHAR(80) COLLATE "C",
    description  TEXT COLLATE "C",
    visibility   VARCHAR(32) COLLATE "C" NOT NULL,
    protected    SMALLINT NOT NULL,
    owner        VARCHAR(255) COLLATE "C",
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
-- List sorts end in created_at, namespace.
CREATE INDEX ix_metadef_namespaces_created_at ON metadef_namespaces (created_at, namespace);
CREATE INDEX ix_metadef_namespaces_updated_at ON metadef_namespaces (updated_at, created_at, namespace);
CREATE INDEX ix_metadef_namespaces_owner ON metadef_namespaces (owner);

CREATE TABLE metadef_resource_types (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       VARCHAR(80) COLLATE "C" NOT NULL UNIQUE,
    protected  SMALLINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE metadef_namespace_resource_types (
    namespace_id      BIGINT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    resource_type_id  BIGINT NOT NULL REFERENCES metadef_resource_types (id),
    prefix            VARCHAR(80) COLLATE "C",
    properties_target VARCHAR(80) COLLATE "C",
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, resource_type_id)
);
CREATE INDEX ix_metadef_ns_rt_resource_type ON metadef_namespace_resource_types (resource_type_id);

CREATE TABLE metadef_objects (
    namespace_id BIGINT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         VARCHAR(80) COLLATE "C" NOT NULL,
    description  TEXT COLLATE "C",
    -- A JSON array of property names.
    required     TEXT NOT NULL,
    -- A JSON object: property name to property definition.
    properties   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name)
);

CREATE TABLE metadef_properties (
    namespace_id BIGINT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         VARCHAR(80) COLLATE "C" NOT NULL,
    -- A JSON object: the property's JSON-Schema definition.
    json_schema  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name)
);

CREATE TABLE metadef_tags (
    namespace_id BIGINT NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         VARCHAR(80) COLLATE "C" NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (namespace_id, name)
);
CREATE INDEX ix_metadef_tags_created_at ON metadef_tags (namespace_id, created_at, name);
