-- Image metadata. Timestamps are microseconds since the Unix epoch and booleans
-- are 0/1 SMALLINTs: the same representation on every backend, because the sqlx
-- Any driver carries only integers and strings (it cannot read TINYINT).
-- utf8mb4_bin sorts by code point, as SQLite and PostgreSQL ("C") do; it is a
-- PAD SPACE collation, so values differing only in trailing spaces compare equal.

CREATE TABLE images (
    id               CHAR(36) NOT NULL PRIMARY KEY,
    name             VARCHAR(255),
    status           VARCHAR(30) NOT NULL,
    visibility       VARCHAR(20) NOT NULL,
    protected        SMALLINT NOT NULL,
    os_hidden        SMALLINT NOT NULL,
    checksum         VARCHAR(32),
    os_hash_algo     VARCHAR(64),
    os_hash_value    VARCHAR(128),
    owner            VARCHAR(255),
    size             BIGINT,
    virtual_size     BIGINT,
    container_format VARCHAR(32),
    disk_format      VARCHAR(32),
    min_disk         BIGINT NOT NULL,
    min_ram          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    deleted          SMALLINT NOT NULL DEFAULT 0,
    deleted_at       BIGINT,
    -- List sorts end in created_at, id: the indexes for sort keys carry them too.
    INDEX ix_images_created_at (created_at, id),
    INDEX ix_images_updated_at (updated_at, id),
    INDEX ix_images_owner (owner),
    INDEX ix_images_visibility (visibility),
    INDEX ix_images_status (status),
    INDEX ix_images_name (name, created_at, id),
    INDEX ix_images_checksum (checksum),
    INDEX ix_images_os_hash_value (os_hash_value)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE image_properties (
    image_id CHAR(36) NOT NULL,
    name     VARCHAR(255) NOT NULL,
    value    TEXT NOT NULL,
    PRIMARY KEY (image_id, name),
    -- TEXT can only be indexed by prefix; equality on value still uses it.
    INDEX ix_image_properties_name_value (name, value(200)),
    FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE image_tags (
    image_id CHAR(36) NOT NULL,
    value    VARCHAR(255) NOT NULL,
    PRIMARY KEY (image_id, value),
    INDEX ix_image_tags_value (value),
    FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE image_locations (
    id       BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    image_id CHAR(36) NOT NULL,
    url      TEXT NOT NULL,
    -- A JSON object.
    metadata TEXT NOT NULL,
    status   VARCHAR(30) NOT NULL,
    position INTEGER NOT NULL,
    INDEX ix_image_locations_image_id (image_id, position),
    FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE image_members (
    image_id   CHAR(36) NOT NULL,
    member     VARCHAR(255) NOT NULL,
    status     VARCHAR(20) NOT NULL,
    can_share  SMALLINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (image_id, member),
    INDEX ix_image_members_member (member),
    FOREIGN KEY (image_id) REFERENCES images (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
