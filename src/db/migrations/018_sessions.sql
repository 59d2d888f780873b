-- Console sessions: the browser holds a random secret in a cookie; only its SHA-256 is stored.
-- A session signed in with a token acts as that token (its scope and project limits, read live) and
-- dies with it. A session opened by a one-time login link (`slipway console-link`, on the host) has
-- no token: it acts as an admin named "console-link".
CREATE TABLE sessions (
  id         TEXT PRIMARY KEY,
  hash       TEXT NOT NULL UNIQUE,
  token_id   TEXT REFERENCES tokens (id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  ended_at   TEXT
);
CREATE INDEX sessions_token ON sessions (token_id);

-- One-time login links: usable once, for a few minutes.
CREATE TABLE login_links (
  hash       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at    TEXT
) WITHOUT ROWID;
