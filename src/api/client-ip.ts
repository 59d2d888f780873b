/**
 * The client a request to the API counts as, for its per-IP rate limit and the activity log.
 *
 * The edge serves the API at SLIPWAY_API_DOMAIN by proxying to it, so every such request reaches
 * the API from the edge's socket; the visitor's address arrives in X-Real-IP, which the edge
 * always writes itself (dropping whatever the visitor sent under that name, and walking past
 * SLIPWAY_TRUSTED_PROXIES), with X-Forwarded-For's last entry as the fallback a plain reverse
 * proxy would give. That header is believed only when the peer is a loopback address: the edge
 * reaches the API there (src/edge/runtime.ts makes a wildcard API address a loopback one), and
 * nothing outside this host can. Apps' containers, builds included, cannot either: a container on
 * a Docker network reaches the host from the network's gateway address, never from 127.0.0.0/8 or
 * ::1. What remains is a process on this host, which could call the API directly anyway. From any
 * other peer the headers are anybody's say, and the socket's address is the client.
 */
import { isIP } from 'node:net';

/** The client's address: the forwarded one when the peer is this host's loopback, else the peer. */
export function clientIp(peer: string | undefined, headers: { get(name: string): string | null }): string | undefined {
  if (!peer || !isLoopback(peer)) return peer;
  const forwarded = headers.get('x-real-ip')?.trim() ?? headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
  return forwarded && isIP(forwarded) ? forwarded : peer;
}

/** 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6. */
function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return ip === '::1' || (v4.startsWith('127.') && isIP(v4) === 4);
}
