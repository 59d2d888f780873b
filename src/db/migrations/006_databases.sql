-- A project's Postgres: its container and volume live in Docker; its password, sealed, here.
CREATE TABLE databases (
  project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
  image      TEXT NOT NULL,
  password   TEXT NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;
