-- Background jobs: the leases that let one node at a time run a job that must
-- run once cluster-wide, and the store work the API could not finish. Same
-- value shapes as the image tables (times in microseconds since the epoch).

-- One row per job; the holder renews it while it runs. A holder that dies
-- loses it when `expires_at` passes. `status` is the holder's last report.
CREATE TABLE job_leases (
    name       TEXT PRIMARY KEY NOT NULL,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    taken_at   INTEGER NOT NULL,
    status     TEXT NOT NULL DEFAULT ''
);

-- Store operations left to the reaper: written in the transaction of the
-- status change that caused them, removed when done.
CREATE TABLE pending_work (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    image_id        TEXT NOT NULL,
    store           TEXT,
    url             TEXT NOT NULL,
    reason          TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL
);
CREATE INDEX ix_pending_work_due ON pending_work (kind, next_attempt_at);
CREATE INDEX ix_pending_work_image ON pending_work (image_id);

-- The reaper finds images waiting for delayed deletion by status and time.
CREATE INDEX ix_images_deleted_status ON images (deleted, status, deleted_at);
