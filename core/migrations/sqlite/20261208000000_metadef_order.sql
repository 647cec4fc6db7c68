-- Lists of a namespace's objects, properties, tags and resource-type
-- associations come back in the order they were added, as Glance's do (it
-- reads them by surrogate key): each row gets `seq`, increasing with every
-- insert. SQLite adds such a column only by rebuilding the table; rows that
-- exist keep their creation order.

CREATE TABLE metadef_objects_new (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT,
    required     TEXT NOT NULL,
    properties   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (namespace_id, name)
);
INSERT INTO metadef_objects_new
    (namespace_id, name, description, required, properties, created_at, updated_at)
    SELECT namespace_id, name, description, required, properties, created_at, updated_at
    FROM metadef_objects ORDER BY created_at, rowid;
DROP TABLE metadef_objects;
ALTER TABLE metadef_objects_new RENAME TO metadef_objects;

CREATE TABLE metadef_properties_new (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    json_schema  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (namespace_id, name)
);
INSERT INTO metadef_properties_new (namespace_id, name, json_schema, created_at, updated_at)
    SELECT namespace_id, name, json_schema, created_at, updated_at
    FROM metadef_properties ORDER BY created_at, rowid;
DROP TABLE metadef_properties;
ALTER TABLE metadef_properties_new RENAME TO metadef_properties;

CREATE TABLE metadef_tags_new (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (namespace_id, name)
);
INSERT INTO metadef_tags_new (namespace_id, name, created_at, updated_at)
    SELECT namespace_id, name, created_at, updated_at
    FROM metadef_tags ORDER BY created_at, rowid;
DROP TABLE metadef_tags;
ALTER TABLE metadef_tags_new RENAME TO metadef_tags;
CREATE INDEX ix_metadef_tags_created_at ON metadef_tags (namespace_id, created_at, seq);

CREATE TABLE metadef_namespace_resource_types_new (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id      INTEGER NOT NULL REFERENCES metadef_namespaces (id) ON DELETE CASCADE,
    resource_type_id  INTEGER NOT NULL REFERENCES metadef_resource_types (id),
    prefix            TEXT,
    properties_target TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (namespace_id, resource_type_id)
);
INSERT INTO metadef_namespace_resource_types_new
    (namespace_id, resource_type_id, prefix, properties_target, created_at, updated_at)
    SELECT namespace_id, resource_type_id, prefix, properties_target, created_at, updated_at
    FROM metadef_namespace_resource_types ORDER BY created_at, rowid;
DROP TABLE metadef_namespace_resource_types;
ALTER TABLE metadef_namespace_resource_types_new RENAME TO metadef_namespace_resource_types;
CREATE INDEX ix_metadef_ns_rt_resource_type ON metadef_namespace_resource_types (resource_type_id);

-- Namespace lists break ties by the surrogate key, as Glance's do.
DROP INDEX ix_metadef_namespaces_created_at;
DROP INDEX ix_metadef_namespaces_updated_at;
CREATE INDEX ix_metadef_namespaces_created_at ON metadef_namespaces (created_at, id);
CREATE INDEX ix_metadef_namespaces_updated_at ON metadef_namespaces (updated_at, created_at, id);
