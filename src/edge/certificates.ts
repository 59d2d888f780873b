/**
 * The certificates the edge serves, picked by SNI. Each is turned into a TLS secure context once,
 * and again only when its PEM changes, so a route store version that changed something else costs
 * nothing here. A certificate the edge cannot load is logged and skipped; the edge never stops for
 * one. There is no default certificate: a name nothing covers (or a handshake without SNI) fails,
 * so one tenant's certificate is never shown for another's name.
 */
import type { SecureContext } from 'node:tls';
import { nodeTls } from '../lazy-libraries.ts';
import type { EdgeCertificate } from './route-store.ts';

/**
 * Mozilla's "intermediate" configuration (version 5.7): TLS 1.2 and 1.3, forward-secret AEAD
 * ciphers only, and the client's preference among them. TLS 1.3's suites are not configurable
 * here and all three are fine. The DHE suites of the list are kept for fidelity; BoringSSL, under
 * Bun, offers none of them.
 */
export const TLS_SETTINGS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
    'DHE-RSA-AES128-GCM-SHA256',
    'DHE-RSA-AES256-GCM-SHA384',
    'DHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  ecdhCurve: 'X25519:prime256v1:secp384r1',
  honorCipherOrder: false,
} as const;

/** A name's certificate as last published, so that an unchanged one is not rebuilt, and what is served. */
interface Loaded {
  certPem: string;
  keyPem: string;
  /** The context served for the name: of this PEM, or of an earlier one when this one cannot be loaded; null for none. */
  context: SecureContext | null;
}

type Warn = (msg: string, fields?: object) => void;

/** Secure contexts by the name each certificate covers ("shop.example.com" or "*.example.com"). */
export class CertificateStore {
  private byName = new Map<string, Loaded>();

  constructor(private readonly warn: Warn = () => {}) {}

  /**
   * Makes `certificates` the served set. A certificate whose PEM did not change keeps its context;
   * one that cannot be loaded is skipped with a warning, and its name keeps the certificate it had
   * before, if any, so that a broken renewal does not take a working name off HTTPS.
   */
  update(certificates: readonly EdgeCertificate[]): void {
    const next = new Map<string, Loaded>();
    for (const certificate of certificates) {
      const name = certificate.hostname.toLowerCase();
      const known = this.byName.get(name);
      if (known && known.certPem === certificate.certPem && known.keyPem === certificate.keyPem) {
        next.set(name, known);
        continue;
      }
      const context = this.load(name, certificate) ?? known?.context ?? null;
      next.set(name, { certPem: certificate.certPem, keyPem: certificate.keyPem, context });
    }
    this.byName = next;
  }

  /** The context for an SNI name: the exact name, else a wildcard one label up; undefined when none covers it. */
  contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.byName.get(name)?.context;
    if (exact) return exact;
    const dot = name.indexOf('.');
    if (dot <= 0) return undefined;
    return this.byName.get(`*${name.slice(dot)}`)?.context ?? undefined;
  }

  /** Whether a certificate the edge could load covers `hostname`. */
  covers(hostname: string): boolean {
    return this.contextFor(hostname) !== undefined;
  }

  /** The certificate's secure context, or null (with a warning) when its PEM cannot be loaded. */
  private load(name: string, certificate: EdgeCertificate): SecureContext | null {
    try {
      return nodeTls().createSecureContext({ ...TLS_SETTINGS, cert: certificate.certPem, key: certificate.keyPem });
    } catch (err) {
      this.warn('Skipping a certificate the edge cannot load', { hostname: name, error: (err as Error).message });
      return null;
    }
  }
}
