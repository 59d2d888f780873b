/**
 * Subnets for project networks. Left to itself, the engine gives every bridge network a /16 (or a
 * /20) from its default pools, which hold 31 of them: a host with about 30 deployed projects could
 * not make another network. Slipway instead gives each project network a /24 of its own pool
 * (`SLIPWAY_PROJECT_SUBNETS`, 172.16.0.0/12 by default: 4,096 of them), the first one that overlaps
 * no existing network of the engine and no route of this host (a VPC or VPN on 172.31/16 is
 * skipped, as the engine skips it for its own pools).
 */
import { readFileSync } from 'node:fs';

/** An IPv4 range: its first address as a number, and its prefix length. */
export interface Ipv4Range {
  base: number;
  prefix: number;
}

/** The prefix length of each project network. */
export const PROJECT_SUBNET_PREFIX = 24;

/** "a.b.c.d/n" as a range; null for anything else (IPv6 included). */
export function parseIpv4Range(text: string): Ipv4Range | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return null;
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  return { base: address - (address % 2 ** (32 - prefix)), prefix };
}

/** The range as "a.b.c.d/n". */
export function formatIpv4Range(range: Ipv4Range): string {
  const b = range.base;
  return `${Math.floor(b / 2 ** 24)}.${Math.floor(b / 2 ** 16) % 256}.${Math.floor(b / 2 ** 8) % 256}.${b % 256}/${range.prefix}`;
}

const size = (r: Ipv4Range) => 2 ** (32 - r.prefix);

/** True when the two ranges share an address. */
export function overlaps(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.base < b.base + size(b) && b.base < a.base + size(a);
}

/**
 * The first /24 of `pool` that overlaps none of `taken`, skipping any in `skip` too (ones the
 * engine just refused); null when the pool is full.
 */
export function firstFreeSubnet(pool: Ipv4Range, taken: Ipv4Range[], skip: Ipv4Range[] = []): Ipv4Range | null {
  const step = 2 ** (32 - PROJECT_SUBNET_PREFIX);
  const end = pool.base + size(pool);
  const busy = [...taken, ...skip].sort((x, y) => x.base - y.base);
  for (let base = pool.base; base + step <= end; ) {
    const candidate = { base, prefix: PROJECT_SUBNET_PREFIX };
    const clash = busy.find((r) => overlaps(r, candidate));
    if (!clash) return candidate;
    // Past the clashing range, aligned up to the next /24.
    base = Math.max(base + step, Math.ceil((clash.base + size(clash)) / step) * step);
  }
  return null;
}

/**
 * The IPv4 routes of this host, from the text of /proc/net/route (addresses in hex, in the
 * kernel's byte order, which is little-endian here). The default route is left out: it covers
 * every address and says nothing about which are in use.
 */
export function parseRoutes(text: string): Ipv4Range[] {
  const routes: Ipv4Range[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8) continue;
    const destination = littleEndianHex(fields[1]!);
    const mask = littleEndianHex(fields[7]!);
    if (destination === null || mask === null || mask === 0) continue;
    const prefix = 32 - Math.log2(2 ** 32 - mask);
    if (!Number.isInteger(prefix)) continue;
    routes.push({ base: destination, prefix });
  }
  return routes;
}

function littleEndianHex(hex: string): number | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  const bytes = hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
  return bytes.reduceRight((n, b) => n * 256 + b, 0);
}

/** This host's routes; none where /proc/net/route cannot be read. */
export function hostRoutes(file = '/proc/net/route'): Ipv4Range[] {
  try {
    return parseRoutes(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}
