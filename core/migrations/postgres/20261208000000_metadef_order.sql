-- Lists of a namespace's objects, properties, tags and resource-type
-- associations come back in the order they were added, as Glance's do (it
-- reads them by surrogate key): each row gets `seq`, increasing with every
-- insert. Rows that exist are numbered as they are found.

ALTER TABLE metadef_objects ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE metadef_properties ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE metadef_tags ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
ALTER TABLE metadef_namespace_resource_types
    ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE;
DROP INDEX ix_metadef_tags_created_at;
CREATE INDEX ix_metadef_tags_created_at ON metadef_tags (namespace_id, created_at, seq);

-- Namespace lists break ties by the surrogate key, as Glance's do.
DROP INDEX ix_metadef_namespaces_created_at;
DROP INDEX ix_metadef_namespaces_updated_at;
CREATE INDEX ix_metadef_namespaces_created_at ON metadef_namespaces (created_at, id);
CREATE INDEX ix_metadef_namespaces_updated_at ON metadef_namespaces (updated_at, created_at, id);
