-- The list's common filters (status, visibility, owner) and the updated_at
-- sort carry the default sort's columns after their own, so a page is read in
-- order from one index and the read stops at the limit, instead of sorting
-- every matching image.
ALTER TABLE images
    DROP INDEX ix_images_status,
    DROP INDEX ix_images_visibility,
    DROP INDEX ix_images_owner,
    DROP INDEX ix_images_updated_at,
    ADD INDEX ix_images_status (status, created_at, id),
    ADD INDEX ix_images_visibility (visibility, created_at, id),
    ADD INDEX ix_images_owner (owner, created_at, id),
    ADD INDEX ix_images_updated_at (updated_at, created_at, id);
