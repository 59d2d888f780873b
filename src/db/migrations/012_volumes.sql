-- Persistent volumes (issue 13).
--
-- The setting: a JSON array of {"name", "mount_path"}; volumes_shared = 1 lets several instances
-- (and overlapping rollouts) mount them at once. quota_volume_mb is the admin's size limit of each
-- volume, null for none; it is enforced only where the engine can (see src/volumes/quota.ts).
ALTER TABLE projects ADD COLUMN volumes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE projects ADD COLUMN volumes_shared INTEGER NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN quota_volume_mb INTEGER;

-- The Docker volumes Slipway made for a project, by the name in the setting. A row outlives its
-- entry in the setting (the data is kept until the project, or the volume explicitly, is deleted).
-- docker_name changes when a restore swaps in a new volume; size_limit_bytes is the quota the
-- engine enforces on it, null when none is.
CREATE TABLE volumes (
  project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  name             TEXT NOT NULL,
  docker_name      TEXT NOT NULL UNIQUE,
  size_limit_bytes INTEGER,
  created_at       TEXT NOT NULL,
  PRIMARY KEY (project_id, name)
) WITHOUT ROWID;
