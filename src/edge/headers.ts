/**
 * Header rewriting at the edge: hop-by-hop headers describe one connection and must not cross the
 * proxy (RFC 9110 §7.6.1), and the upstream learns about the visitor from the identity headers
 * that forwarded.ts writes. Headers travel as [name, value] pairs in the order and spelling they
 * came in, so repeated fields (Set-Cookie above all) stay separate.
 */
import type { IncomingMessage } from 'node:http';
import { forwardedHeaders, IDENTITY_HEADERS, type Visitor } from './forwarded.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Header fields as [name, value] pairs. */
export type HeaderPairs = [string, string][];

/** Headers that only make sense on a single connection, stripped in both directions. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
];

/** Whether a request asks to become a WebSocket; any other Upgrade is proxied as plain HTTP. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === 'websocket';
}

/** Node's rawHeaders list (name, value, name, value, …) as pairs. */
export function headerPairs(raw: readonly string[]): HeaderPairs {
  const pairs: HeaderPairs = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}

/** Every value of `name` joined by ", " (RFC 9110 §5.3), or null when there is none. */
export function joined(pairs: HeaderPairs, name: string): string | null {
  const values = pairs.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
  return values.length > 0 ? values.join(', ') : null;
}

/**
 * The headers to send upstream: hop-by-hop and visitor-made identity headers removed, Host kept.
 * A WebSocket handshake keeps its Sec-WebSocket-* fields: the edge relays the handshake, so the
 * visitor and the app negotiate key, version, subprotocol and extensions with each other.
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  visitor: Visitor,
  trusted: TrustedProxies,
  websocket = false,
): HeaderPairs {
  const incoming = headerPairs(raw);
  const dropped = new Set(['expect', ...IDENTITY_HEADERS]);
  // The edge answers `Expect: 100-continue` itself; forwarding it would make the upstream wait too.
  const out = withoutHopByHop(incoming).filter(([name]) => !dropped.has(name.toLowerCase()));
  out.push(...forwardedHeaders((name) => joined(incoming, name), visitor, joined(incoming, 'host'), trusted));
  if (websocket) out.push(['connection', 'Upgrade'], ['upgrade', 'websocket']);
  return out;
}

/** The upstream's response headers as the visitor should get them. */
export function visitorResponseHeaders(raw: readonly string[]): HeaderPairs {
  return withoutHopByHop(headerPairs(raw));
}

/** `pairs` without hop-by-hop headers, including those the Connection header names. */
export function withoutHopByHop(pairs: HeaderPairs): HeaderPairs {
  const listed = (joined(pairs, 'connection') ?? '').split(',').map((t) => t.trim().toLowerCase());
  const drop = new Set([...HOP_BY_HOP, ...listed]);
  return pairs.filter(([name]) => !drop.has(name.toLowerCase()));
}

/** An IPv4-mapped IPv6 address ("::ffff:1.2.3.4") written the way logs and apps expect it. */
export function plainIp(address: string | undefined | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
