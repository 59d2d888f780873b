/**
 * Webhook signatures: `Slipway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
 * `<t>.<body>` with the webhook's secret, as Stripe signs. The timestamp is the attempt's, so a
 * receiver can refuse a replayed request older than a few minutes.
 */
import { createHmac, randomBytes } from 'node:crypto';

/** The signature header's name. */
export const SIGNATURE_HEADER = 'Slipway-Signature';

/** A new signing secret: `whsec_` and 32 random bytes, base64url. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The signature header's value for `body` sent at `unixSeconds`. */
export function sign(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
