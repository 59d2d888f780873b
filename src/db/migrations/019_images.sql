-- Credentials for pulling prebuilt images, one per registry host; `password` is sealed with
-- AES-256-GCM (src/secrets/secret-box.ts) bound to the host, and never leaves the agent.
CREATE TABLE registries (
  id         TEXT PRIMARY KEY,
  host       TEXT NOT NULL UNIQUE,
  username   TEXT NOT NULL,
  password   TEXT NOT NULL,
  created_by TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- The image reference a prebuilt-image deployment pulls (NULL for builds from source) and the
-- digest it resolved to, and the project's settings each deployment was queued with (JSON), for
-- comparing releases.
ALTER TABLE deployments ADD COLUMN image_ref TEXT;
ALTER TABLE deployments ADD COLUMN image_digest TEXT;
ALTER TABLE deployments ADD COLUMN settings_snapshot TEXT;
