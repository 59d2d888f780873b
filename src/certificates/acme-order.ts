import type * as acme from 'acme-client';
import { loadAcme } from './acme-http.ts';
import { OrderFailure } from './order-failure.ts';

/** Where HTTP-01 key authorizations are published while the CA validates them. */
export interface ChallengeBoard {
  /** Serves `keyAuthorization` at /.well-known/acme-challenge/<token> on every host; resolves once the edge serves it. */
  put(token: string, keyAuthorization: string): Promise<void>;
  remove(token: string): void;
}

/** A certificate fresh from the CA: the leaf and its chain, and the key made for it. */
export interface IssuedCertificate {
  chainPem: string;
  keyPem: string;
}

/** X.509 caps a common name at 64 characters; longer names go in the SAN only. */
const MAX_COMMON_NAME = 64;

/**
 * Orders a certificate for one name over HTTP-01, step by step (not acme-client's `auto`, which
 * checks the challenge over port 80 itself and hides which step failed): order, publish each key
 * authorization, let the CA validate, finalize with a CSR for a new ECDSA P-256 key (one per
 * certificate, never reused), download the chain. Challenges are removed whatever happens. Every
 * failure is an OrderFailure naming the step, with the CA's own problem detail when it gave one.
 */
export async function orderCertificate(
  client: acme.Client,
  hostname: string,
  board: ChallengeBoard,
): Promise<IssuedCertificate> {
  const order = await step(`Cannot place an order for ${hostname}`, () =>
    client.createOrder({ identifiers: [{ type: 'dns', value: hostname }] }),
  );
  const authorizations = await step(`Cannot read the CA's authorizations for ${hostname}`, () =>
    client.getAuthorizations(order),
  );
  for (const authz of authorizations) {
    if (authz.status === 'valid') continue;
    const challenge = authz.challenges.find((c) => c.type === 'http-01');
    if (!challenge) throw new OrderFailure(`The CA offered no HTTP-01 challenge for ${hostname}`);
    const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
    await board.put(challenge.token, keyAuthorization);
    try {
      await step(`Cannot start the CA's validation of ${hostname}`, () => client.completeChallenge(challenge));
      await step(`The CA could not validate ${hostname}`, () => client.waitForValidStatus(challenge));
    } finally {
      board.remove(challenge.token);
    }
  }
  const { crypto } = await loadAcme();
  const key = await crypto.createPrivateEcdsaKey('P-256');
  const [, csr] = await crypto.createCsr(
    { altNames: [hostname], ...(hostname.length <= MAX_COMMON_NAME ? { commonName: hostname } : {}) },
    key,
  );
  const finalized = await step(`The CA did not finalize the order for ${hostname}`, () =>
    client.finalizeOrder(order, csr),
  );
  const chainPem = await step(`Cannot download the certificate for ${hostname}`, () =>
    client.getCertificate(finalized),
  );
  return { chainPem, keyPem: key.toString() };
}

async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OrderFailure) throw err;
    throw new OrderFailure(`${what}: ${(err as Error).message || String(err)}`);
  }
}
