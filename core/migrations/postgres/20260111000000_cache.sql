-- The image cache index: one row per image cached on one API node. Nodes
-- sharing this database keep separate caches, each under its own `node`
-- (its self-reference URL). Times are microseconds since the epoch.

CREATE TABLE cached_images (
    id            BIGSERIAL PRIMARY KEY,
    node          VARCHAR(255) COLLATE "C" NOT NULL,
    image_id      VARCHAR(36) COLLATE "C" NOT NULL,
    size          BIGINT NOT NULL,
    checksum      VARCHAR(32),
    hits          BIGINT NOT NULL DEFAULT 0,
    last_accessed BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    CONSTRAINT uq_cached_images_node_image UNIQUE (node, image_id)
);
CREATE INDEX ix_cached_images_lru ON cached_images (node, last_accessed);
CREATE INDEX ix_cached_images_image_id ON cached_images (image_id);
