-- The auditor's findings: one row per (check, location), replaced each time
-- that location is checked again. `outcome` is `ok` or what was wrong;
-- `expected` and `found` say it in words an operator reads. Orphans (data no
-- location names) have kind `orphan` and the nil image id when the object's
-- name is not an image id. Times in microseconds since the epoch.
CREATE TABLE audit_results (
    id           BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind         VARCHAR(16) NOT NULL,
    image_id     CHAR(36) NOT NULL,
    store        VARCHAR(255) NOT NULL,
    url          TEXT NOT NULL,
    outcome      VARCHAR(32) NOT NULL,
    expected     TEXT NOT NULL,
    found        TEXT NOT NULL,
    first_failed_at BIGINT,
    checked_at   BIGINT NOT NULL,
    INDEX ix_audit_results_image (image_id, kind),
    INDEX ix_audit_results_outcome (outcome, kind)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
