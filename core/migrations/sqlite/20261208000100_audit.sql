-- The auditor's findings: one row per (check, location), replaced each time
-- that location is checked again. `outcome` is `ok` or what was wrong;
-- `expected` and `found` say it in words an operator reads. Orphans (data no
-- location names) have kind `orphan` and the nil image id when the object's
-- name is not an image id. Times in microseconds since the epoch.
CREATE TABLE audit_results (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    image_id     TEXT NOT NULL,
    store        TEXT NOT NULL,
    url          TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    expected     TEXT NOT NULL,
    found        TEXT NOT NULL,
    first_failed_at INTEGER,
    checked_at   INTEGER NOT NULL
);
CREATE INDEX ix_audit_results_image ON audit_results (image_id, kind);
CREATE INDEX ix_audit_results_outcome ON audit_results (outcome, kind);
