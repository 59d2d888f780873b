-- Backups of the whole agent (issue 13): one row per backup made, the index that listing, verifying
-- and pruning read. The file itself lives at `location` (a path, or s3://bucket/key); `manifest`
-- is the JSON manifest sealed inside it, kept here so a list needs no decryption.
CREATE TABLE backups (
  id          TEXT PRIMARY KEY,
  trigger     TEXT NOT NULL CHECK (trigger IN ('api', 'schedule')),
  destination TEXT NOT NULL CHECK (destination IN ('local', 's3')),
  status      TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
  location    TEXT,
  bytes       INTEGER,
  sha256      TEXT,
  manifest    TEXT,
  error       TEXT,
  created_at  TEXT NOT NULL,
  finished_at TEXT
) WITHOUT ROWID;
CREATE INDEX backups_created ON backups (created_at);
