/**
 * Header rewriting at the edge: hop-by-hop headers describe one connection and must not cross the
 * proxy (RFC 9110 §7.6.1), and the upstream learns about the visitor from the identity headers
 * that forwarded.ts writes.
 */
import { forwardedHeaders, IDENTITY_HEADERS, type Visitor } from './forwarded.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

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

/** An HTTP field name (RFC 9110 §5.1). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Headers of the visitor's WebSocket handshake: Bun's WebSocket client makes its own key,
 * version and extensions toward the upstream, and subprotocols are passed to it separately.
 */
const WEBSOCKET_HANDSHAKE = [
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
];

/** Whether a request asks to become a WebSocket. */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.headers.get('upgrade')?.toLowerCase() === 'websocket';
}

/** The headers to send upstream: hop-by-hop and visitor-made identity headers removed, Host kept. */
export function upstreamRequestHeaders(
  incoming: Headers,
  visitor: Visitor,
  trusted: TrustedProxies,
  websocket = false,
): Headers {
  const out = withoutHopByHop(incoming);
  // The edge answers `Expect: 100-continue` itself; forwarding it would make the upstream wait too.
  out.delete('expect');
  if (websocket) for (const name of WEBSOCKET_HANDSHAKE) out.delete(name);
  for (const name of IDENTITY_HEADERS) out.delete(name);
  const identity = forwardedHeaders((name) => incoming.get(name), visitor, incoming.get('host'), trusted);
  for (const [name, value] of identity) out.set(name, value);
  return out;
}

/** The upstream's response headers as the visitor should get them. */
export function visitorResponseHeaders(upstream: Headers): Headers {
  return withoutHopByHop(upstream);
}

/** A copy of `headers` without hop-by-hop ones, including those the Connection header names. */
export function withoutHopByHop(headers: Headers): Headers {
  const out = new Headers(headers);
  const listed = headers.get('connection');
  if (listed) {
    for (const token of listed.split(',').map((t) => t.trim())) {
      // Headers.delete throws on a name that is not a token; a junk Connection value must not.
      if (TOKEN.test(token)) out.delete(token);
    }
  }
  for (const name of HOP_BY_HOP) out.delete(name);
  return out;
}

/** An IPv4-mapped IPv6 address ("::ffff:1.2.3.4") written the way logs and apps expect it. */
export function plainIp(address: string | undefined | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
