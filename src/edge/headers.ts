/**
 * Header rewriting at the edge: hop-by-hop headers describe one connection and must not cross the
 * proxy (RFC 9110 §7.6.1), and the upstream learns about the visitor from the identity headers
 * that forwarded.ts writes. Headers travel as node:http's raw lists (name, value, name, value, …)
 * in the order and spelling they came in, so repeated fields (Set-Cookie above all) stay separate.
 */
import type { IncomingMessage } from 'node:http';
import { forwardedHeaders, IDENTITY_HEADERS, type Visitor } from './forwarded.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Headers that only make sense on a single connection, stripped in both directions. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
]);

/**
 * Request headers the edge drops besides: visitor-made identity headers, and `Expect`, since the
 * edge answers `Expect: 100-continue` itself and forwarding it would make the upstream wait too.
 */
const NOT_FORWARDED = new Set(['expect', ...IDENTITY_HEADERS]);

/**
 * Every request header name the edge does not pass upstream as sent: hop-by-hop ones (Connection
 * among them, which may name more), identity headers and Expect. A head without any of them goes
 * upstream with its header lines unchanged.
 */
export const NOT_FORWARDED_UPSTREAM: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...NOT_FORWARDED]);

/** Whether a request asks to become a WebSocket; any other Upgrade is proxied as plain HTTP. */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.headers.upgrade?.toLowerCase() === 'websocket';
}

/** Every value of `name` (lowercase) in a raw list, joined by ", " (RFC 9110 §5.3), or null. */
export function joined(raw: readonly string[], name: string): string | null {
  let value: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]}`;
  }
  return value;
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
): string[] {
  const out = withoutHopByHop(raw, NOT_FORWARDED);
  for (const [name, value] of forwardedHeaders((n) => joined(raw, n), visitor, joined(raw, 'host'), trusted)) {
    out.push(name, value);
  }
  if (websocket) out.push('connection', 'Upgrade', 'upgrade', 'websocket');
  return out;
}

/** The last identity lines forwardedLines wrote, and what they were for. */
let lastLines = {
  ip: null as string | null,
  proto: '',
  host: null as string | null,
  trusted: null as TrustedProxies | null,
  text: '',
};

/**
 * The identity headers as header lines (each ending in CRLF) for a request that carries none of
 * its own (a plain head). Consecutive requests from one visitor to one host get the same lines,
 * so the last ones are kept; a peer among the trusted proxies gets them computed every time.
 */
export function forwardedLines(visitor: Visitor, host: string | null, trusted: TrustedProxies): string {
  const { ip, proto } = visitor;
  const last = lastLines;
  if (last.ip === ip && last.proto === proto && last.host === host && last.trusted === trusted && ip !== null) {
    return last.text;
  }
  let text = '';
  for (const [name, value] of forwardedHeaders(() => null, visitor, host, trusted)) text += `${name}: ${value}\r\n`;
  if (ip !== null && !trusted.trusts(ip)) lastLines = { ip, proto, host, trusted, text };
  return text;
}

/** The upstream's response headers as the visitor should get them, with the edge's `own` (a raw list) in place of theirs. */
export function visitorResponseHeaders(raw: readonly string[], own: readonly string[] = []): string[] {
  if (own.length === 0) return withoutHopByHop(raw);
  const replaced = new Set<string>();
  for (let i = 0; i < own.length; i += 2) replaced.add(own[i]!.toLowerCase());
  return [...withoutHopByHop(raw, replaced), ...own];
}

/**
 * The header lines (each ending in CRLF) of an upstream's response as the visitor gets them: what
 * visitorResponseHeaders keeps, written at once from a parsed head's lowercased `names` and the
 * tokens of its Connection fields. Also says whether a Date is among them.
 */
export function visitorResponseLines(
  raw: readonly string[],
  names: readonly string[],
  own: readonly string[],
  connection: readonly string[],
): { text: string; hasDate: boolean } {
  const replaced = replacedBy(own);
  let text = '';
  let hasDate = false;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!keptForVisitor(name, replaced, connection)) continue;
    if (name === 'date') hasDate = true;
    text += `${raw[2 * i]}: ${raw[2 * i + 1]}\r\n`;
  }
  const extra = ownLines(own);
  return { text: text + extra.text, hasDate: hasDate || extra.hasDate };
}

/** The lowercased names of the edge's `own` response headers (a raw list), or null when there are none. */
export function replacedBy(own: readonly string[]): Set<string> | null {
  if (own.length === 0) return null;
  const replaced = new Set<string>();
  for (let i = 0; i < own.length; i += 2) replaced.add(own[i]!.toLowerCase());
  return replaced;
}

/**
 * Whether an upstream response field named `name` (lowercase) reaches the visitor: not hop-by-hop,
 * not one the edge's own headers replace, not named by the response's Connection `connection` tokens.
 */
export function keptForVisitor(
  name: string,
  replaced: ReadonlySet<string> | null,
  connection: readonly string[],
): boolean {
  if (HOP_BY_HOP.has(name) || replaced?.has(name)) return false;
  return connection.length === 0 || !connection.includes(name) || END_TO_END.has(name);
}

const NO_LINES = Object.freeze({ text: '', hasDate: false });

/** The edge's `own` response headers (a raw list) as header lines, and whether a Date is among them. */
export function ownLines(own: readonly string[]): { readonly text: string; readonly hasDate: boolean } {
  if (own.length === 0) return NO_LINES;
  let text = '';
  let hasDate = false;
  for (let i = 0; i + 1 < own.length; i += 2) {
    if (own[i]!.toLowerCase() === 'date') hasDate = true;
    text += `${own[i]}: ${own[i + 1]}\r\n`;
  }
  return { text, hasDate };
}

/**
 * Fields a Connection header may not remove: the edge frames the message and routes it by them, so
 * dropping them would make the upstream read it differently (`Connection: Content-Length` turned a
 * body into the start of a second request). nginx likewise never drops them.
 */
const END_TO_END = new Set(['content-length', 'host']);

/**
 * A raw list without hop-by-hop headers, those the Connection header names (END_TO_END kept), and
 * `alsoDrop`. On every proxied request twice, so each name is lowercased once and the Connection
 * tokens are split only when there is a Connection header.
 */
export function withoutHopByHop(raw: readonly string[], alsoDrop?: ReadonlySet<string>): string[] {
  const names: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    names.push(name);
    if (name === 'connection') connection = connection === null ? raw[i + 1]! : `${connection}, ${raw[i + 1]}`;
  }
  const listed = connection === null ? [] : connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (HOP_BY_HOP.has(name) || alsoDrop?.has(name) || listed.includes(name)) continue;
    out.push(raw[2 * i]!, raw[2 * i + 1]!);
  }
  return out;
}

/** The field names a Connection header lists, lowercased, without those it may not remove. */
function connectionTokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => !END_TO_END.has(t));
}

/** An IPv4-mapped IPv6 address ("::ffff:1.2.3.4") written the way logs and apps expect it. */
export function plainIp(address: string | undefined | null): string | null {
  if (!address) return null;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
