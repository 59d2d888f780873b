-- Whether a project's live release should be running (stop/start).
ALTER TABLE projects ADD COLUMN desired_state TEXT NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running', 'stopped'));

-- The edge's route table. The API/worker writes it; the edge (in the same process or its own)
-- polls routes_version and applies it, then reports the version it applied and the targets it
-- is still draining, so a swap can wait for old instances to finish their requests.
CREATE TABLE edge_routes (
  project       TEXT PRIMARY KEY,
  deployment_id TEXT,
  hostnames     TEXT NOT NULL DEFAULT '[]',
  targets       TEXT NOT NULL DEFAULT '[]',
  updated_at    TEXT NOT NULL
);
CREATE TABLE edge_meta (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO edge_meta (key, value) VALUES ('routes_version', 0), ('applied_version', 0);
CREATE TABLE edge_draining (
  target     TEXT PRIMARY KEY,
  inflight   INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);

-- Seconds a new instance has to answer its health check.
ALTER TABLE projects ADD COLUMN deploy_timeout INTEGER NOT NULL DEFAULT 60;
