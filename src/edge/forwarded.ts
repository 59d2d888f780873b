/**
 * The headers that tell an app who its visitor is. A visitor can send any of them, so the edge
 * never passes them on as sent: it writes them from the socket's peer address. Only a peer inside
 * SLIPWAY_TRUSTED_PROXIES (a load balancer or CDN in front of the edge) has its chain kept and
 * appended to, as nginx's realip module and kamal-proxy's forward headers do.
 */
import { isIP } from '../ip.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Every header the edge owns; whatever a visitor sent under these names is dropped. */
export const IDENTITY_HEADERS = ['x-forwarded-for', 'x-real-ip', 'forwarded', 'x-forwarded-proto', 'x-forwarded-host'];

/** What the edge knows about the connection a request came in on. */
export interface Visitor {
  /** The socket's peer address, or null when the socket is already gone. */
  ip: string | null;
  /** The scheme the peer used to reach the edge. */
  proto: 'http' | 'https';
}

/** A request header as the visitor sent it (repeated lines joined by ", "), or null. */
type Incoming = (name: string) => string | null;

/**
 * The identity headers for the upstream. `host` is the request's Host as sent. From an untrusted
 * peer everything is the edge's own observation; from a trusted one the chain it sent continues.
 */
export function forwardedHeaders(
  incoming: Incoming,
  visitor: Visitor,
  host: string | null,
  trusted: TrustedProxies,
): [string, string][] {
  const out: [string, string][] = [];
  const { ip, proto } = visitor;
  const ours = forwardedElement(ip, host, proto);
  if (!ip || !trusted.trusts(ip)) {
    if (ip) out.push(['x-forwarded-for', ip], ['x-real-ip', ip]);
    out.push(['forwarded', ours], ['x-forwarded-proto', proto]);
    if (host) out.push(['x-forwarded-host', host]);
    return out;
  }
  const chain = incoming('x-forwarded-for');
  const claimedForwarded = incoming('forwarded');
  out.push(['x-forwarded-for', chain ? `${chain}, ${ip}` : ip]);
  out.push(['x-real-ip', nearestUntrusted(ip, chain, trusted)]);
  out.push(['forwarded', claimedForwarded ? `${claimedForwarded}, ${ours}` : ours]);
  out.push(['x-forwarded-proto', incoming('x-forwarded-proto') ?? proto]);
  const claimedHost = incoming('x-forwarded-host') ?? host;
  if (claimedHost) out.push(['x-forwarded-host', claimedHost]);
  return out;
}

/**
 * The visitor's address as far as trusted hops vouch for it: walking X-Forwarded-For from the
 * right, past every trusted proxy, to the first address that is not one (real_ip_recursive).
 */
function nearestUntrusted(peer: string, chain: string | null, trusted: TrustedProxies): string {
  const hops = (chain ?? '').split(',').map((h) => h.trim());
  let client = peer;
  while (trusted.trusts(client) && hops.length > 0) {
    const next = hops.pop()!;
    // Whatever a trusted hop did not write itself is the visitor's say; stop at anything odd.
    if (!isIP(next)) break;
    client = next;
  }
  return client;
}

/** One RFC 7239 element: `for=…;host=…;proto=…`, quoting what is not a token. */
function forwardedElement(ip: string | null, host: string | null, proto: string): string {
  const parts: string[] = [];
  if (ip) parts.push(`for=${ip.includes(':') ? `"[${ip}]"` : ip}`);
  if (host) parts.push(`host=${/^[A-Za-z0-9.-]+$/.test(host) ? host : `"${host.replace(/["\\]/g, '\\$&')}"`}`);
  parts.push(`proto=${proto}`);
  return parts.join(';');
}
