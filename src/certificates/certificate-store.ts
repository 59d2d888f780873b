import { certificateKeyContext, type CertificateRepo, type CertificateRow } from '../db/certificates.ts';
import type { Db } from '../db/open.ts';
import type { EdgeCertificate } from '../edge/route-store.ts';
import type { Logger } from '../log.ts';
import type { EdgeRoutes } from '../release/edge-routes.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { describeChain, renewAtOf } from './pem.ts';

/** What the certificate store is made of. */
export interface CertificateStoreDeps {
  db: Db;
  repo: CertificateRepo;
  box: SecretBox;
  edge: Pick<EdgeRoutes, 'putCertificate' | 'removeCertificate'>;
  log: Logger;
  now: () => Date;
}

/**
 * Certificates as Slipway keeps them: the chain and the facts read from it in slipway.db with the
 * key sealed (bound to the name it belongs to), and the same chain with the key in the clear in the
 * route store, which only the edge reads. Each change is written to both in one step: the row rolls
 * back when the publication fails.
 */
export function certificateStore(d: CertificateStoreDeps) {
  return {
    /**
     * Stores and publishes the certificate of `hostname`, replacing any before it (the edge serves
     * the new one to new handshakes). ACME certificates get their renewal time; uploaded ones none.
     */
    save(hostname: string, source: CertificateRow['source'], chainPem: string, keyPem: string): CertificateRow {
      const facts = describeChain(chainPem);
      const now = d.now().toISOString();
      const row: CertificateRow = {
        hostname,
        source,
        cert_pem: chainPem,
        key_sealed: d.box.seal(keyPem, certificateKeyContext(hostname)),
        issuer: facts.issuer,
        serial: facts.serial,
        not_before: facts.notBefore,
        not_after: facts.notAfter,
        renew_at: source === 'acme' ? renewAtOf(facts) : null,
        renew_failures: 0,
        renew_error: null,
        renew_next_at: null,
        created_at: d.repo.find(hostname)?.created_at ?? now,
        updated_at: now,
      };
      d.db.transaction(() => {
        d.repo.put(row);
        d.edge.putCertificate(toEdge(row, keyPem));
      })();
      return row;
    },
    /**
     * Hands a new certificate to the edge before it is recorded, so that a domain is called active
     * only once the edge serves it; returns the store version to wait for. save() publishes it again.
     */
    preview: (hostname: string, chainPem: string, keyPem: string): number =>
      d.edge.putCertificate({ hostname, certPem: chainPem, keyPem, notAfter: describeChain(chainPem).notAfter }),
    /**
     * Takes back what preview() handed to the edge when it is not stored after all: the edge serves
     * the stored certificate of `hostname` again (an upload made meanwhile), or none.
     */
    unpreview(hostname: string): void {
      d.db.transaction(() => {
        const row = d.repo.find(hostname);
        if (row) d.edge.putCertificate(toEdge(row, d.box.open(row.key_sealed, certificateKeyContext(hostname))));
        else d.edge.removeCertificate(hostname);
      })();
    },
    /** Stops serving the certificate of `hostname` (an expired upload) while keeping its row, which the API still shows. */
    withdraw: (hostname: string): number => d.edge.removeCertificate(hostname),
    /** Forgets the certificate of `hostname` and stops serving it; false when there was none. */
    drop(hostname: string): boolean {
      return d.db.transaction(() => {
        const had = d.repo.remove(hostname);
        if (had) d.edge.removeCertificate(hostname);
        return had;
      })();
    },
    find: (hostname: string) => d.repo.find(hostname),
    all: () => d.repo.all(),
    /** Every stored certificate with its key unsealed, for publishAll. */
    published: (): EdgeCertificate[] => publishedCertificates(d.repo, d.box, d.log, d.now()),
  };
}

/** Stored certificates. */
export type CertificateStore = ReturnType<typeof certificateStore>;

/**
 * Every stored certificate with its key unsealed: what publishAll writes to the route store. One
 * whose key does not open (a different master key) is left out and logged rather than stopping the
 * others; so is an uploaded one that expired (at `now`), so the edge stops redirecting to it.
 */
export function publishedCertificates(
  repo: CertificateRepo,
  box: SecretBox,
  log: Logger,
  now: Date = new Date(),
): EdgeCertificate[] {
  const out: EdgeCertificate[] = [];
  for (const row of repo.all()) {
    if (expiredUpload(row, now)) continue;
    try {
      out.push(toEdge(row, box.open(row.key_sealed, certificateKeyContext(row.hostname))));
    } catch (err) {
      log.error('cannot unseal a certificate key; not serving it', {
        hostname: row.hostname,
        error: (err as Error).message,
      });
    }
  }
  return out;
}

function toEdge(row: CertificateRow, keyPem: string): EdgeCertificate {
  return { hostname: row.hostname, certPem: row.cert_pem, keyPem, notAfter: row.not_after };
}

/** Whether `row` is an uploaded certificate past its not_after at `now` (Slipway never renews those). */
export function expiredUpload(row: CertificateRow, now: Date): boolean {
  return row.source === 'uploaded' && Date.parse(row.not_after) <= now.getTime();
}
