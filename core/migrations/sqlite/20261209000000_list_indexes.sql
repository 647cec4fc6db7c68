-- The list's common filters (status, visibility, owner) and the updated_at
-- sort carry the default sort's columns after their own, so a page is read in
-- order from one index and the read stops at the limit, instead of sorting
-- every matching image.
DROP INDEX ix_images_status;
DROP INDEX ix_images_visibility;
DROP INDEX ix_images_owner;
DROP INDEX ix_images_updated_at;
CREATE INDEX ix_images_status ON images (status, created_at, id);
CREATE INDEX ix_images_visibility ON images (visibility, created_at, id);
CREATE INDEX ix_images_owner ON images (owner, created_at, id);
CREATE INDEX ix_images_updated_at ON images (updated_at, created_at, id);
