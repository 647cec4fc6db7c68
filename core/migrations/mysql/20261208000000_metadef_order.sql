-- Lists of a namespace's objects, properties, tags and resource-type
-- associations come back in the order they were added, as Glance's do (it
-- reads them by surrogate key): each row gets `seq`, increasing with every
-- insert. Rows that exist are numbered in key order.

ALTER TABLE metadef_objects
    ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT, ADD UNIQUE INDEX uq_metadef_objects_seq (seq);
ALTER TABLE metadef_properties
    ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT, ADD UNIQUE INDEX uq_metadef_properties_seq (seq);
ALTER TABLE metadef_tags
    ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT, ADD UNIQUE INDEX uq_metadef_tags_seq (seq),
    DROP INDEX ix_metadef_tags_created_at,
    ADD INDEX ix_metadef_tags_created_at (namespace_id, created_at, seq);
ALTER TABLE metadef_namespace_resource_types
    ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT,
    ADD UNIQUE INDEX uq_metadef_namespace_resource_types_seq (seq);

-- Namespace lists break ties by the surrogate key, as Glance's do.
ALTER TABLE metadef_namespaces
    DROP INDEX ix_metadef_namespaces_created_at,
    DROP INDEX ix_metadef_namespaces_updated_at,
    ADD INDEX ix_metadef_namespaces_created_at (created_at, id),
    ADD INDEX ix_metadef_namespaces_updated_at (updated_at, created_at, id);
