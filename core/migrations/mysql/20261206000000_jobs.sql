-- Background jobs: the leases that let one node at a time run a job that must
-- run once cluster-wide, and the store work the API could not finish. Same
-- value shapes as the image tables (times in microseconds since the epoch).

-- One row per job; the holder renews it while it runs. A holder that dies
-- loses it when `expires_at` passes. `status` is the holder's last report.
CREATE TABLE job_leases (
    name       VARCHAR(64) NOT NULL PRIMARY KEY,
    holder     VARCHAR(255) NOT NULL,
    expires_at BIGINT NOT NULL,
    taken_at   BIGINT NOT NULL,
    status     TEXT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Store operations left to the reaper: written in the transaction of the
-- status change that caused them, removed when done.
CREATE TABLE pending_work (
    id              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind            VARCHAR(32) NOT NULL,
    image_id        CHAR(36) NOT NULL,
    store           VARCHAR(255),
    url             TEXT NOT NULL,
    reason          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    INDEX ix_pending_work_due (kind, next_attempt_at),
    INDEX ix_pending_work_image (image_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- The reaper finds images waiting for delayed deletion by status and time.
CREATE INDEX ix_images_deleted_status ON images (deleted, status, deleted_at);
