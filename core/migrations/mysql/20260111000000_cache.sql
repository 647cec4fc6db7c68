-- The image cache index: one row per image cached on one API node. Nodes
-- sharing this database keep separate caches, each under its own `node`
-- (its self-reference URL). Times are microseconds since the epoch.

CREATE TABLE cached_images (
    id            BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    node          VARCHAR(255) NOT NULL,
    image_id      CHAR(36) NOT NULL,
    size          BIGINT NOT NULL,
    checksum      VARCHAR(32),
    hits          BIGINT NOT NULL DEFAULT 0,
    last_accessed BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    UNIQUE INDEX uq_cached_images_node_image (node, image_id),
    INDEX ix_cached_images_lru (node, last_accessed),
    INDEX ix_cached_images_image_id (image_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
