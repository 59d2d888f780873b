/**
 * Where a webhook may send: checks a URL's form and the addresses its host resolves to. Loopback,
 * link-local (cloud metadata), private, CGNAT, ULA, multicast, reserved and documentation
 * addresses, and the agent's own, are refused unless SLIPWAY_WEBHOOK_ALLOW_PRIVATE is on: a webhook
 * must not become a way to reach the agent's internal networks. The check runs at creation and
 * again before each attempt, and the attempt connects to the very address that passed (a name that
 * resolves differently the second time, DNS rebinding, cannot slip through).
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A URL refused as a webhook destination; the message says why, without the resolved addresses. */
export class DestinationRefused extends Error {}

/** An address that passed the check, for the request to connect to. */
export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

const V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 3],
];
const V6: [string, number][] = [
  ['::', 96], // unspecified, loopback, IPv4-compatible
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
];
const MAPPED = new BlockList();
MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');
const SPECIAL = new BlockList();
for (const [net, prefix] of V4) SPECIAL.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of V6) SPECIAL.addSubnet(net, prefix, 'ipv6');

/** `ip` with an IPv4-mapped IPv6 address (::ffff:a.b.c.d, ::ffff:7f00:1) turned into its IPv4 address. */
export function unmapped(ip: string): string {
  const lower = ip.toLowerCase();
  const dotted = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1]!;
  const hex = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return ip;
  const hi = Number.parseInt(hex[1]!, 16);
  const lo = Number.parseInt(hex[2]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Whether `ip` is a special-purpose address (not global unicast) that webhooks never reach by default. */
export function isSpecialAddress(ip: string): boolean {
  const plain = unmapped(ip);
  const v = isIP(plain);
  if (v === 0) return true;
  if (v === 4) return SPECIAL.check(plain, 'ipv4');
  // An IPv4-mapped address in a spelling unmapped() does not know is refused rather than guessed at.
  // (Not a BlockList subnet: BlockList matches every IPv4 address against ::ffff:0:0/96.)
  return SPECIAL.check(plain, 'ipv6') || MAPPED.check(plain, 'ipv6');
}

/** The addresses of the agent's own interfaces and SLIPWAY_PUBLIC_IPS. */
export function ownAddresses(configured: readonly string[]): string[] {
  const found = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a!.address);
  return [...new Set([...configured, ...found].map(unmapped))];
}

/** What the check needs: the policy, the agent's addresses, and a resolver (tests pass their own). */
export interface DestinationPolicy {
  allowPrivate: boolean;
  ownAddresses: () => readonly string[];
  resolve?: (hostname: string) => Promise<CheckedAddress[]>;
}

/** Parses and checks the form of a webhook URL: http(s), a host, no credentials, at most 2,048 characters. */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > 2048) throw new DestinationRefused('the URL is longer than 2,048 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DestinationRefused('it is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new DestinationRefused('only http:// and https:// URLs are allowed');
  }
  if (url.username || url.password) throw new DestinationRefused('credentials in the URL are not allowed');
  if (url.hostname === '') throw new DestinationRefused('the URL has no host');
  return url;
}

/**
 * Resolves `url`'s host once and returns the address to connect to. Every address it resolves to
 * must pass: one special or own address among them refuses the whole name.
 */
export async function checkDestination(url: URL, policy: DestinationPolicy): Promise<CheckedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) as 4 | 6 }] : await resolveAll(host, policy);
  if (addresses.length === 0) throw new DestinationRefused(`${host} does not resolve`);
  if (!policy.allowPrivate) {
    const own = new Set(policy.ownAddresses().map(unmapped));
    for (const a of addresses) {
      if (own.has(unmapped(a.address))) throw new DestinationRefused(`${host} resolves to an address of this agent`);
      if (isSpecialAddress(a.address)) {
        throw new DestinationRefused(
          `${host} resolves to a loopback, private, link-local or reserved address (SLIPWAY_WEBHOOK_ALLOW_PRIVATE is off)`,
        );
      }
    }
  }
  return addresses[0]!;
}

async function resolveAll(host: string, policy: DestinationPolicy): Promise<CheckedAddress[]> {
  try {
    if (policy.resolve) return await policy.resolve(host);
    const found = await lookup(host, { all: true, verbatim: true });
    return found.map((a) => ({ address: a.address, family: a.family as 4 | 6 }));
  } catch {
    throw new DestinationRefused(`${host} does not resolve`);
  }
}
