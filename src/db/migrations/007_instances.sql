-- The app containers Slipway started, by id, and the database container of each project: what a
-- container is and whom it serves is decided from here, never from labels an image or build can set.
CREATE TABLE instances (
  container_id  TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  deployment_id TEXT NOT NULL,
  image_id      TEXT NOT NULL,
  created_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX instances_project ON instances (project_id);

ALTER TABLE databases ADD COLUMN container_id TEXT;
ALTER TABLE databases ADD COLUMN image_id TEXT;
