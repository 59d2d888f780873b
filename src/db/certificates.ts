import type { Db } from './open.ts';

/** A row of the certificates table; `key_sealed` is the private key sealed with the master key. */
export interface CertificateRow {
  hostname: string;
  source: 'acme' | 'uploaded';
  cert_pem: string;
  key_sealed: string;
  issuer: string;
  serial: string;
  not_before: string;
  not_after: string;
  renew_at: string | null;
  renew_failures: number;
  renew_error: string | null;
  renew_next_at: string | null;
  created_at: string;
  updated_at: string;
}

/** A row of the acme_orders table: one certificate order placed with the CA. */
export interface AcmeOrderRow {
  id: string;
  hostname: string;
  registered_domain: string;
  /** The project the order was placed for; null for the API domain. */
  project_id: string | null;
  status: 'pending' | 'valid' | 'invalid';
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** The context a certificate's key is sealed with, so a sealed key copied to another row fails to open. */
export function certificateKeyContext(hostname: string): string {
  return `certificate:${hostname}`;
}

/** Statements on the certificates and acme_orders tables, prepared once. */
export function certificateRepo(db: Db) {
  const put = db.prepare(
    `INSERT OR REPLACE INTO certificates (hostname, source, cert_pem, key_sealed, issuer, serial, not_before, not_after,
       renew_at, renew_failures, renew_error, renew_next_at, created_at, updated_at)
     VALUES (@hostname, @source, @cert_pem, @key_sealed, @issuer, @serial, @not_before, @not_after,
       @renew_at, @renew_failures, @renew_error, @renew_next_at, @created_at, @updated_at)`,
  );
  const find = db.prepare('SELECT * FROM certificates WHERE hostname = ?');
  const all = db.prepare('SELECT * FROM certificates ORDER BY hostname');
  const dueForRenewal = db.prepare(
    `SELECT * FROM certificates WHERE source = 'acme' AND renew_at <= @now
       AND (renew_next_at IS NULL OR renew_next_at <= @now) ORDER BY renew_at`,
  );
  const renewalFailed = db.prepare(
    `UPDATE certificates SET renew_failures = renew_failures + 1, renew_error = @error, renew_next_at = @next_at,
       updated_at = @now WHERE hostname = @hostname`,
  );
  const remove = db.prepare('DELETE FROM certificates WHERE hostname = ?');
  const insertOrder = db.prepare(
    `INSERT INTO acme_orders (id, hostname, registered_domain, project_id, status, error, created_at, finished_at)
     VALUES (@id, @hostname, @registered_domain, @project_id, 'pending', NULL, @created_at, NULL)`,
  );
  const finishOrder = db.prepare(
    'UPDATE acme_orders SET status = @status, error = @error, finished_at = @finished_at WHERE id = @id',
  );
  const ordersSince = db.prepare(
    'SELECT COUNT(*) AS n FROM acme_orders WHERE registered_domain = ? AND created_at >= ?',
  );
  const oldestSince = db.prepare(
    'SELECT MIN(created_at) AS at FROM acme_orders WHERE registered_domain = ? AND created_at >= ?',
  );
  const projectOrdersSince = db.prepare(
    'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM acme_orders WHERE project_id = ? AND created_at >= ?',
  );
  const abandon = db.prepare(
    `UPDATE acme_orders SET status = 'invalid', error = @error, finished_at = @finished_at
     WHERE hostname = @hostname AND status = 'pending' AND created_at < @before`,
  );
  const pendingOrder = db.prepare(
    "SELECT * FROM acme_orders WHERE hostname = ? AND status = 'pending' ORDER BY created_at DESC LIMIT 1",
  );
  return {
    put: (row: CertificateRow) => void put.run(row),
    find: (hostname: string) => find.get(hostname) as CertificateRow | undefined,
    all: () => all.all() as CertificateRow[],
    /** ACME certificates whose renewal time has come and whose last failure's backoff has passed. */
    dueForRenewal: (now: string) => dueForRenewal.all({ now }) as CertificateRow[],
    renewalFailed: (hostname: string, error: string, nextAt: string) =>
      void renewalFailed.run({ hostname, error, next_at: nextAt, now: new Date().toISOString() }),
    remove: (hostname: string) => remove.run(hostname).changes > 0,
    orders: {
      start: (row: {
        id: string;
        hostname: string;
        registered_domain: string;
        project_id?: string | null;
        created_at: string;
      }) => void insertOrder.run({ project_id: null, ...row }),
      finish: (id: string, status: 'valid' | 'invalid', error: string | null) =>
        void finishOrder.run({ id, status, error, finished_at: new Date().toISOString() }),
      /** Orders placed for names under one registered domain since `since` (ISO 8601). */
      countSince: (registeredDomain: string, since: string) =>
        (ordersSince.get(registeredDomain, since) as { n: number }).n,
      /** The oldest order counted by countSince, or null: when the window frees up. */
      oldestSince: (registeredDomain: string, since: string) =>
        (oldestSince.get(registeredDomain, since) as { at: string | null }).at,
      /** Orders placed for one project since `since`, and the oldest of them (when the window frees up). */
      projectSince: (projectId: string, since: string) =>
        projectOrdersSince.get(projectId, since) as { n: number; oldest: string | null },
      pending: (hostname: string) => pendingOrder.get(hostname) as AcmeOrderRow | undefined,
      /** Marks `hostname`'s pending orders placed before `before` invalid (left by a process that died). */
      abandon: (hostname: string, before: string, error: string) =>
        abandon.run({ hostname, before, error, finished_at: new Date().toISOString() }).changes,
    },
  };
}

/** The certificates repository. */
export type CertificateRepo = ReturnType<typeof certificateRepo>;
