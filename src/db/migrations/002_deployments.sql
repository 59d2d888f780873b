-- Deployments are also the job queue: a row in status 'queued' is a job waiting to run.
CREATE TABLE deployments (
  id                TEXT PRIMARY KEY,
  project_id        TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  project           TEXT NOT NULL,
  number            INTEGER NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('queued', 'building', 'deploying', 'live', 'failed', 'canceled', 'replaced')),
  trigger           TEXT NOT NULL CHECK (trigger IN ('upload', 'retry', 'rollback', 'env', 'restart', 'scale')),
  retry_of          TEXT,
  rollback_of       TEXT,
  idempotency_key   TEXT,
  source_sha256     TEXT,
  source_bytes      INTEGER,
  source_format     TEXT,
  source_path       TEXT,               -- relative to the data directory; NULL once pruned
  stack             TEXT,
  image_id          TEXT,
  image_tag         TEXT,
  exposed_port      INTEGER,
  build_duration_ms INTEGER,
  failure_reason    TEXT,
  created_by        TEXT,               -- token id
  created_at        TEXT NOT NULL,
  started_at        TEXT,
  finished_at       TEXT,
  updated_at        TEXT NOT NULL,
  UNIQUE (project_id, number),
  UNIQUE (project_id, idempotency_key)
);
CREATE INDEX deployments_status ON deployments (status, created_at);
CREATE INDEX deployments_project ON deployments (project_id, number);

CREATE TABLE deployment_logs (
  deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  seq           INTEGER NOT NULL,
  at            TEXT NOT NULL,
  line          TEXT NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) WITHOUT ROWID;
