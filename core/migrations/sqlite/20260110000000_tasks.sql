-- Tasks: asynchronous work on images (interoperable import, location hashing,
-- the legacy tasks API). `input` and `result` are JSON objects as text.

CREATE TABLE tasks (
    id         TEXT PRIMARY KEY NOT NULL,
    type       TEXT NOT NULL,
    status     TEXT NOT NULL,
    owner      TEXT,
    input      TEXT NOT NULL,
    result     TEXT,
    message    TEXT NOT NULL DEFAULT '',
    image_id   TEXT,
    request_id TEXT,
    user_id    TEXT,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ix_tasks_image_id ON tasks (image_id, created_at);
CREATE INDEX ix_tasks_created_at ON tasks (created_at, id);
CREATE INDEX ix_tasks_owner ON tasks (owner);
