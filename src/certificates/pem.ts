import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { ValidationError } from '../errors.ts';

/** What Slipway records of a certificate, read from its leaf. */
export interface CertificateFacts {
  /** The issuer's common name (or its whole name when it has none). */
  issuer: string;
  /** Upper-case hex, as OpenSSL prints it. */
  serial: string;
  notBefore: string;
  notAfter: string;
}

/** A certificate chain and key that passed checkUpload, normalised. */
export interface CheckedUpload {
  chainPem: string;
  keyPem: string;
  facts: CertificateFacts;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, leaf first, each ending in a newline. */
export function certificateBlocks(pem: string): string[] {
  return (pem.match(PEM_BLOCK) ?? []).map((block) => `${block}\n`);
}

/** The facts of a chain's leaf; throws when the text holds no certificate. */
export function describeChain(chainPem: string): CertificateFacts {
  const leaf = certificateBlocks(chainPem)[0];
  if (!leaf) throw new Error('No certificate in the PEM text');
  return describe(new X509Certificate(leaf));
}

/** When an ACME certificate is renewed: two thirds into its lifetime (a third of it left). */
export function renewAtOf(facts: Pick<CertificateFacts, 'notBefore' | 'notAfter'>): string {
  const from = Date.parse(facts.notBefore);
  const to = Date.parse(facts.notAfter);
  return new Date(from + Math.round(((to - from) * 2) / 3)).toISOString();
}

/**
 * Checks an uploaded chain and key for `hostname` (a wildcard "*.apps.example.com" must be named
 * by the certificate itself) at `now`, and returns them normalised: the chain as its PEM blocks,
 * the key as PKCS#8. Throws a 422 that says what is wrong.
 */
export function checkUpload(certificate: string, privateKey: string, hostname: string, now: Date): CheckedUpload {
  const blocks = certificateBlocks(certificate);
  if (blocks.length === 0) {
    throw new ValidationError('The certificate is not PEM: expected -----BEGIN CERTIFICATE----- blocks', [
      { path: '/certificate', message: 'no PEM certificate block' },
    ]);
  }
  const chain = blocks.map((block, i) => parseCertificate(block, i));
  const leaf = chain[0]!;
  const key = parseKey(privateKey);
  if (!leaf.checkPrivateKey(key)) {
    throw new ValidationError('The private key does not match the certificate', [
      { path: '/private_key', message: "not the key of the chain's first certificate" },
    ]);
  }
  if (!covers(leaf, hostname)) {
    throw new ValidationError(`The certificate does not cover ${hostname}`, [
      { path: '/certificate', message: `names: ${leaf.subjectAltName ?? leaf.subject}` },
    ]);
  }
  const facts = describe(leaf);
  if (Date.parse(facts.notAfter) <= now.getTime()) {
    throw new ValidationError(`The certificate expired on ${facts.notAfter}`, [
      { path: '/certificate', message: 'expired' },
    ]);
  }
  if (Date.parse(facts.notBefore) > now.getTime()) {
    throw new ValidationError(`The certificate is not valid before ${facts.notBefore}`, [
      { path: '/certificate', message: 'not yet valid' },
    ]);
  }
  return {
    chainPem: blocks.join(''),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    facts,
  };
}

function covers(leaf: X509Certificate, hostname: string): boolean {
  if (!hostname.startsWith('*.')) return leaf.checkHost(hostname) !== undefined;
  // checkHost matches names, not patterns: a wildcard must be listed as it is.
  const names = (leaf.subjectAltName ?? '').split(',').map((n) => n.trim().toLowerCase());
  return names.includes(`dns:${hostname}`);
}

function parseCertificate(block: string, index: number): X509Certificate {
  try {
    return new X509Certificate(block);
  } catch {
    throw new ValidationError(
      `The certificate cannot be read: block ${index + 1} of the chain is not an X.509 certificate`,
      [{ path: '/certificate', message: `block ${index + 1} does not parse` }],
    );
  }
}

function parseKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new ValidationError('The private key cannot be read: expected an unencrypted PEM private key', [
      { path: '/private_key', message: 'not an unencrypted PEM private key' },
    ]);
  }
}

function describe(cert: X509Certificate): CertificateFacts {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)?.[1];
  return {
    issuer: cn ?? cert.issuer.replace(/\n/g, ', '),
    serial: cert.serialNumber.toUpperCase(),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
  };
}
