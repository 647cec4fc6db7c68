-- The image cache index: one row per image cached on one API node. Nodes
-- sharing this database keep separate caches, each under its own `node`
-- (its self-reference URL). Times are microseconds since the epoch.

CREATE TABLE cached_images (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    node          TEXT NOT NULL,
    image_id      TEXT NOT NULL,
    size          INTEGER NOT NULL,
    checksum      TEXT,
    hits          INTEGER NOT NULL DEFAULT 0,
    last_accessed INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    UNIQUE (node, image_id)
);
CREATE INDEX ix_cached_images_lru ON cached_images (node, last_accessed);
CREATE INDEX ix_cached_images_image_id ON cached_images (image_id);
