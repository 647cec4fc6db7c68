-- Image metadata. Timestamps are microseconds since the Unix epoch and booleans
-- are 0/1 integers: the same representation on every backend, because the sqlx
-- Any driver carries only integers and strings. Text compares with SQLite's
-- default BINARY collation (code-point order), which PostgreSQL ("C") and
-- MySQL (utf8mb4_bin) are set up to match.

CREATE TABLE images (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT,
    status           TEXT NOT NULL,
    visibility       TEXT NOT NULL,
    protected        INTEGER NOT NULL,
    os_hidden        INTEGER NOT NULL,
    checksum         TEXT,
    os_hash_algo     TEXT,
    os_hash_value    TEXT,
    owner            TEXT,
    size             INTEGER,
    virtual_size     INTEGER,
    container_format TEXT,
    disk_format      TEXT,
    min_disk         INTEGER NOT NULL,
    min_ram          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    deleted          INTEGER NOT NULL DEFAULT 0,
    deleted_at       INTEGER
);

-- List sorts end in created_at, id: the indexes for sort keys carry them too.
CREATE INDEX ix_images_created_at ON images (created_at, id);
CREATE INDEX ix_images_updated_at ON images (updated_at, id);
CREATE INDEX ix_images_owner ON images (owner);
CREATE INDEX ix_images_visibility ON images (visibility);
CREATE INDEX ix_images_status ON images (status);
CREATE INDEX ix_images_name ON images (name, created_at, id);
CREATE INDEX ix_images_checksum ON images (checksum);
CREATE INDEX ix_images_os_hash_value ON images (os_hash_value);

CREATE TABLE image_properties (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
);
-- Property filters compare a 200-character prefix first: PostgreSQL cannot
-- index values longer than about 2.7 kB, so every backend indexes the prefix.
CREATE INDEX ix_image_properties_name_value ON image_properties (name, substr(value, 1, 200));

CREATE TABLE image_tags (
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, value)
);
CREATE INDEX ix_image_tags_value ON image_tags (value);

CREATE TABLE image_locations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    url      TEXT NOT NULL,
    -- A JSON object.
    metadata TEXT NOT NULL,
    status   TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX ix_image_locations_image_id ON image_locations (image_id, position);

CREATE TABLE image_members (
    image_id   TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member     TEXT NOT NULL,
    status     TEXT NOT NULL,
    can_share  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, member)
);
CREATE INDEX ix_image_members_member ON image_members (member);
