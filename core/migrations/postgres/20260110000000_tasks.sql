-- Tasks: asynchronous work on images (interoperable import, location hashing,
-- the legacy tasks API). `input` and `result` are JSON objects as text.

CREATE TABLE tasks (
    id         VARCHAR(36) COLLATE "C" PRIMARY KEY NOT NULL,
    type       VARCHAR(30) NOT NULL,
    status     VARCHAR(30) NOT NULL,
    owner      VARCHAR(255) COLLATE "C",
    input      TEXT NOT NULL,
    result     TEXT,
    message    TEXT NOT NULL DEFAULT '',
    image_id   VARCHAR(36) COLLATE "C",
    request_id VARCHAR(64),
    user_id    VARCHAR(255),
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted    SMALLINT NOT NULL DEFAULT 0
);
CREATE INDEX ix_tasks_image_id ON tasks (image_id, created_at);
CREATE INDEX ix_tasks_created_at ON tasks (created_at, id);
CREATE INDEX ix_tasks_owner ON tasks (owner);
