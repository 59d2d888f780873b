-- Custom domains and their certificates (issue 11).
--
-- A domain is a host name routed to one project. Its status moves pending_dns → verified →
-- issuing → active, or to failed with a reason and the time of the next attempt. last_check holds
-- what the last verification found (JSON: {"at", "method", "addresses", "message"}).
CREATE TABLE domains (
  id                TEXT PRIMARY KEY,
  project_id        TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
  hostname          TEXT NOT NULL UNIQUE,
  redirect_to_https INTEGER NOT NULL DEFAULT 1,
  hsts              INTEGER NOT NULL DEFAULT 0,
  status            TEXT NOT NULL CHECK (status IN ('pending_dns', 'verified', 'issuing', 'active', 'failed')),
  reason            TEXT,
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TEXT,
  last_check        TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX domains_project ON domains (project_id, hostname);
CREATE INDEX domains_due ON domains (next_attempt_at);

-- Certificates the edge serves, by the name they cover: a domain's host name, a project's default
-- host name, or a wildcard ("*.apps.example.com") uploaded for the base domain. The key is sealed
-- with the master key (context "certificate:<hostname>"); the edge's store gets it in the clear,
-- readable only by the edge's user. source: 'acme' (renewed by Slipway) or 'uploaded' (never).
CREATE TABLE certificates (
  hostname        TEXT PRIMARY KEY,
  source          TEXT NOT NULL CHECK (source IN ('acme', 'uploaded')),
  cert_pem        TEXT NOT NULL,
  key_sealed      TEXT NOT NULL,
  issuer          TEXT NOT NULL,
  serial          TEXT NOT NULL,
  not_before      TEXT NOT NULL,
  not_after       TEXT NOT NULL,
  -- When Slipway renews it: two thirds into its lifetime, or what the CA's renewal info says.
  renew_at        TEXT,
  -- Renewal failures: how many in a row, the last error, when to try again.
  renew_failures  INTEGER NOT NULL DEFAULT 0,
  renew_error     TEXT,
  renew_next_at   TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
) WITHOUT ROWID;

-- Every certificate order placed, for the CA's rate limits (orders per registered domain per
-- week) and the one-order-in-flight-per-name rule.
CREATE TABLE acme_orders (
  id                TEXT PRIMARY KEY,
  hostname          TEXT NOT NULL,
  registered_domain TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('pending', 'valid', 'invalid')),
  error             TEXT,
  created_at        TEXT NOT NULL,
  finished_at       TEXT
);
CREATE INDEX acme_orders_registered ON acme_orders (registered_domain, created_at);
CREATE INDEX acme_orders_hostname ON acme_orders (hostname, created_at);
