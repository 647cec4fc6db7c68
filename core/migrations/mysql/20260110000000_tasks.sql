-- Tasks: asynchronous work on images (interoperable import, location hashing,
-- the legacy tasks API). `input` and `result` are JSON objects as text.

CREATE TABLE tasks (
    id         CHAR(36) NOT NULL PRIMARY KEY,
    type       VARCHAR(30) NOT NULL,
    status     VARCHAR(30) NOT NULL,
    owner      VARCHAR(255),
    input      TEXT NOT NULL,
    result     TEXT,
    message    TEXT NOT NULL,
    image_id   CHAR(36),
    request_id VARCHAR(64),
    user_id    VARCHAR(255),
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted    SMALLINT NOT NULL DEFAULT 0,
    INDEX ix_tasks_image_id (image_id, created_at),
    INDEX ix_tasks_created_at (created_at, id),
    INDEX ix_tasks_owner (owner)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
