/**
 * SLIPWAY_TRUSTED_PROXIES: the peers whose X-Forwarded-* headers the edge believes. Addresses are
 * compared as 16 bytes, IPv4 ones mapped into IPv6 (::ffff:a.b.c.d), so that "10.0.0.0/8" also
 * matches a peer that the socket reports as "::ffff:10.1.2.3".
 */
import { isIPv4, isIPv6 } from '../ip.ts';

/** One parsed CIDR block. */
export interface Cidr {
  /** As the operator wrote it, for messages. */
  readonly text: string;
  /** The network address, IPv4 mapped into IPv6. */
  readonly bytes: Uint8Array;
  /** Prefix length over all 128 bits (an IPv4 /8 is 104). */
  readonly prefix: number;
}

/** Parses "10.0.0.0/8, fd00::/8, 192.0.2.7"; a bare address is a single host. Throws on a bad entry. */
export function parseCidrList(raw: string): Cidr[] {
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map(parseCidr);
}

/** Parses one CIDR block or bare address; throws an Error saying what is wrong with it. */
export function parseCidr(text: string): Cidr {
  const [address = '', bits, ...extra] = text.split('/');
  // A zone ("fe80::1%eth0") belongs to one interface of this host, not to a network.
  const bytes = address.includes('%') ? null : ipBytes(address);
  const max = isIPv4(address) ? 32 : 128;
  const length = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (!bytes || extra.length > 0 || !(length <= max)) {
    throw new Error(`"${text}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`);
  }
  const prefix = length + (128 - max);
  const network = masked(bytes, prefix);
  if (!network.every((b, i) => b === bytes[i])) {
    throw new Error(`"${text}" has bits set past its /${length} prefix`);
  }
  return { text, bytes: network, prefix };
}

/** The set of trusted proxy networks; an empty set trusts nobody. */
export class TrustedProxies {
  constructor(private readonly cidrs: readonly Cidr[] = []) {}

  /** Whether `ip` (as a socket or X-Forwarded-For reports it) lies in one of the networks. */
  trusts(ip: string | null | undefined): boolean {
    if (!ip || this.cidrs.length === 0) return false;
    const bytes = ipBytes(ip);
    return !!bytes && this.cidrs.some((c) => masked(bytes, c.prefix).every((b, i) => b === c.bytes[i]));
  }
}

/** An IPv4 or IPv6 address as 16 bytes (IPv4 mapped), or null when `ip` is not one. */
export function ipBytes(ip: string): Uint8Array | null {
  if (isIPv4(ip)) return new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.split('.').map(Number)]);
  // A zone ("fe80::1%eth0") names an interface, not part of the address.
  const address = ip.split('%')[0]!;
  if (!isIPv6(address)) return null;
  return ipv6Bytes(address);
}

/** Expands a valid IPv6 address, "::" and a trailing dotted IPv4 part included. */
function ipv6Bytes(address: string): Uint8Array | null {
  let text = address;
  let v4: number[] = [];
  if (text.includes('.')) {
    const at = text.lastIndexOf(':');
    v4 = text
      .slice(at + 1)
      .split('.')
      .map(Number);
    text = `${text.slice(0, at + 1)}0:0`;
  }
  const [head = '', tail, ...more] = text.split('::');
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)));
  const front = words(head);
  const back = tail === undefined ? [] : words(tail);
  const gap = 8 - front.length - back.length;
  if (more.length > 0 || gap < 0 || (tail === undefined && gap !== 0)) return null;
  const all = [...front, ...new Array<number>(gap).fill(0), ...back];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  if (v4.length === 4) bytes.set(v4, 12);
  return bytes;
}

/** `bytes` with every bit past the first `prefix` cleared. */
function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    return b & (0xff << (8 - keep)) & 0xff;
  });
}
