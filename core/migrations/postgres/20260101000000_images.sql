-- Image metadata. Timestamps are microseconds since the Unix epoch and booleans
-- are 0/1 SMALLINTs: the same representation on every backend, because the sqlx
-- Any driver carries only integers and strings. Text columns use the "C"
-- collation so that sorting is code-point order, as on SQLite and MySQL.
-- Nullable sort columns are indexed NULLS FIRST: NULL is the smallest value on
-- every backend.

CREATE TABLE images (
    id               VARCHAR(36) COLLATE "C" PRIMARY KEY,
    name             VARCHAR(255) COLLATE "C",
    status           VARCHAR(30) COLLATE "C" NOT NULL,
    visibility       VARCHAR(20) COLLATE "C" NOT NULL,
    protected        SMALLINT NOT NULL,
    os_hidden        SMALLINT NOT NULL,
    checksum         VARCHAR(32) COLLATE "C",
    os_hash_algo     VARCHAR(64) COLLATE "C",
    os_hash_value    VARCHAR(128) COLLATE "C",
    owner            VARCHAR(255) COLLATE "C",
    size             BIGINT,
    virtual_size     BIGINT,
    container_format VARCHAR(32) COLLATE "C",
    disk_format      VARCHAR(32) COLLATE "C",
    min_disk         BIGINT NOT NULL,
    min_ram          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    deleted          SMALLINT NOT NULL DEFAULT 0,
    deleted_at       BIGINT
);

-- List sorts end in created_at, id: the indexes for sort keys carry them too.
CREATE INDEX ix_images_created_at ON images (created_at, id);
CREATE INDEX ix_images_updated_at ON images (updated_at, id);
CREATE INDEX ix_images_owner ON images (owner);
CREATE INDEX ix_images_visibility ON images (visibility);
CREATE INDEX ix_images_status ON images (status);
CREATE INDEX ix_images_name ON images (name NULLS FIRST, created_at, id);
CREATE INDEX ix_images_checksum ON images (checksum);
CREATE INDEX ix_images_os_hash_value ON images (os_hash_value);

CREATE TABLE image_properties (
    image_id VARCHAR(36) COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name     VARCHAR(255) COLLATE "C" NOT NULL,
    value    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (image_id, name)
);
-- A B-tree entry cannot exceed about 2.7 kB, so only a prefix of the value is
-- indexed; property filters compare that prefix first.
CREATE INDEX ix_image_properties_name_value ON image_properties (name, substr(value, 1, 200));

CREATE TABLE image_tags (
    image_id VARCHAR(36) COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    value    VARCHAR(255) COLLATE "C" NOT NULL,
    PRIMARY KEY (image_id, value)
);
CREATE INDEX ix_image_tags_value ON image_tags (value);

CREATE TABLE image_locations (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    image_id VARCHAR(36) COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    url      TEXT NOT NULL,
    -- A JSON object.
    metadata TEXT NOT NULL,
    status   VARCHAR(30) NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX ix_image_locations_image_id ON image_locations (image_id, position);

CREATE TABLE image_members (
    image_id   VARCHAR(36) COLLATE "C" NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    member     VARCHAR(255) COLLATE "C" NOT NULL,
    status     VARCHAR(20) NOT NULL,
    can_share  SMALLINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (image_id, member)
);
CREATE INDEX ix_image_members_member ON image_members (member);
