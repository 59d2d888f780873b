-- Webhooks and the event outbox (issue 14).
--
-- events is an outbox filled by triggers, in the same transaction as the status change it reports,
-- whichever code made it: an event exists exactly when its change committed, and survives a
-- restart until the event bus has handed it to the webhooks (which then deletes it).
CREATE TABLE events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  type       TEXT NOT NULL,
  project    TEXT,
  data       TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- A webhook: where events go. events is a JSON array of event types; project_id NULL means all
-- projects. The signing secret is sealed with the master key (context "webhook:<id>").
CREATE TABLE webhooks (
  id            TEXT PRIMARY KEY,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,
  project_id    TEXT REFERENCES projects (id) ON DELETE CASCADE,
  description   TEXT,
  secret_sealed TEXT NOT NULL,
  created_at    TEXT NOT NULL
) WITHOUT ROWID;

-- One event to one webhook: the durable delivery queue. pending ones are sent when next_attempt_at
-- has come; 'sending' is a claim (reset to pending on start); dead ones ran out of retries.
CREATE TABLE webhook_deliveries (
  id               TEXT PRIMARY KEY,
  webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id         TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  project          TEXT,
  body             TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT,
  give_up_at       TEXT NOT NULL,
  last_status_code INTEGER,
  last_error       TEXT,
  last_duration_ms INTEGER,
  redelivery_of    TEXT,
  created_at       TEXT NOT NULL,
  finished_at      TEXT
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_dead ON webhook_deliveries (status, finished_at);

-- Every attempt of a delivery: when, the response code (NULL without a response), the error, how long.
CREATE TABLE webhook_attempts (
  delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  n           INTEGER NOT NULL,
  at          TEXT NOT NULL,
  status_code INTEGER,
  error       TEXT,
  duration_ms INTEGER NOT NULL,
  PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;

CREATE INDEX deployments_failed ON deployments (status, finished_at);

-- The triggers that fill the outbox.
CREATE TRIGGER events_deployment_queued AFTER INSERT ON deployments
BEGIN
  INSERT INTO events (type, project, data, created_at) VALUES ('deployment.queued', NEW.project,
    json_object('deployment', json_object('id', NEW.id, 'number', NEW.number, 'status', NEW.status,
      'trigger', NEW.trigger, 'failure_reason', NEW.failure_reason, 'created_at', NEW.created_at,
      'started_at', NEW.started_at, 'finished_at', NEW.finished_at)),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER events_deployment_ended AFTER UPDATE OF status ON deployments
WHEN NEW.status IN ('live', 'failed', 'canceled') AND OLD.status IS NOT NEW.status
BEGIN
  INSERT INTO events (type, project, data, created_at) VALUES ('deployment.' || NEW.status, NEW.project,
    json_object('deployment', json_object('id', NEW.id, 'number', NEW.number, 'status', NEW.status,
      'trigger', NEW.trigger, 'failure_reason', NEW.failure_reason, 'created_at', NEW.created_at,
      'started_at', NEW.started_at, 'finished_at', NEW.finished_at)),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER events_domain_status AFTER UPDATE OF status ON domains
WHEN NEW.status IN ('active', 'failed') AND OLD.status IS NOT NEW.status
BEGIN
  INSERT INTO events (type, project, data, created_at) VALUES ('domain.' || NEW.status,
    (SELECT name FROM projects WHERE id = NEW.project_id),
    json_object('domain', json_object('id', NEW.id, 'hostname', NEW.hostname, 'status', NEW.status,
      'reason', NEW.reason)),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER events_certificate_renewal_failed AFTER UPDATE OF renew_failures ON certificates
WHEN NEW.renew_failures > OLD.renew_failures
BEGIN
  INSERT INTO events (type, project, data, created_at) VALUES ('certificate.renewal_failed',
    (SELECT p.name FROM projects p WHERE p.id = coalesce(
      (SELECT project_id FROM domains WHERE hostname = NEW.hostname),
      (SELECT project_id FROM platform_hosts WHERE hostname = NEW.hostname))),
    json_object('certificate', json_object('hostname', NEW.hostname, 'not_after', NEW.not_after,
      'failures', NEW.renew_failures, 'error', NEW.renew_error, 'next_attempt_at', NEW.renew_next_at)),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;

CREATE TRIGGER events_backup_finished AFTER UPDATE OF status ON backups
WHEN NEW.status IN ('complete', 'failed') AND OLD.status = 'running'
BEGIN
  INSERT INTO events (type, project, data, created_at) VALUES (
    CASE NEW.status WHEN 'complete' THEN 'backup.done' ELSE 'backup.failed' END, NULL,
    json_object('backup', json_object('id', NEW.id, 'trigger', NEW.trigger, 'destination', NEW.destination,
      'status', NEW.status, 'location', NEW.location, 'bytes', NEW.bytes, 'error', NEW.error,
      'created_at', NEW.created_at, 'finished_at', NEW.finished_at)),
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
END;
