-- Tokens: only the SHA-256 of the secret is stored.
CREATE TABLE tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  hint         TEXT NOT NULL,
  scope        TEXT NOT NULL CHECK (scope IN ('read', 'deploy', 'admin')),
  projects     TEXT,              -- JSON array of project names, NULL = every project
  created_at   TEXT NOT NULL,
  expires_at   TEXT,
  last_used_at TEXT,
  revoked_at   TEXT
);

CREATE TABLE projects (
  id                TEXT PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  port              INTEGER,
  health_check_path TEXT NOT NULL DEFAULT '/',
  instances         INTEGER NOT NULL DEFAULT 1,
  memory_mb         INTEGER NOT NULL DEFAULT 512,
  cpus              REAL NOT NULL DEFAULT 1,
  dockerfile        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);

-- The audit log is append-only: the triggers below refuse any change to a written row.
CREATE TABLE activity (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT NOT NULL UNIQUE,
  created_at  TEXT NOT NULL,
  token_id    TEXT,
  token_name  TEXT,
  action      TEXT NOT NULL,
  target_type TEXT NOT NULL,
  target      TEXT NOT NULL,
  project     TEXT,
  request_id  TEXT,
  client_ip   TEXT,
  changes     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_project ON activity (project, seq);
CREATE INDEX activity_token ON activity (token_id, seq);
CREATE INDEX activity_action ON activity (action, seq);

CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity
BEGIN
  SELECT RAISE(ABORT, 'activity is append-only');
END;
CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity
BEGIN
  SELECT RAISE(ABORT, 'activity is append-only');
END;
