-- Env vars of a project; `value` is sealed with AES-256-GCM (src/secrets/secret-box.ts).
CREATE TABLE env_vars (
  project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  key        TEXT NOT NULL,
  value      TEXT NOT NULL,
  managed_by TEXT,                 -- 'database' for DATABASE_URL; NULL for the user's own
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (project_id, key)
) WITHOUT ROWID;

-- The env a deployment runs with, sealed as one JSON object, so a rollback restores it exactly.
ALTER TABLE deployments ADD COLUMN env_snapshot TEXT;
