-- Host names Slipway orders certificates for on its own, beside custom domains: each project's
-- default host name (<project>.<base-domain>, when the base domain is public and no wildcard
-- certificate covers it) and the API domain (project_id NULL). No DNS verification: they move
-- pending → issuing → active, or to failed with a reason and the time of the next attempt. A row
-- goes with its project; the certificate of a name without a row, domain or wildcard is dropped.
CREATE TABLE platform_hosts (
  hostname        TEXT PRIMARY KEY,
  project_id      TEXT REFERENCES projects (id) ON DELETE CASCADE,
  status          TEXT NOT NULL CHECK (status IN ('pending', 'issuing', 'active', 'failed')),
  reason          TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX platform_hosts_project ON platform_hosts (project_id);
