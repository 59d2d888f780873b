/**
 * The addresses a custom domain must point to, the DNS records that say so, and which resolved
 * addresses the HTTP self-check may connect to.
 */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A DNS record the user must create for a domain. */
export interface DnsRecord {
  type: 'A' | 'AAAA' | 'TXT';
  name: string;
  value: string;
  /** The same in words: "an A record for shop.example.com pointing to 203.0.113.7". */
  description: string;
}

const family = (ip: string) => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');

function blocks(ranges: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, type] of ranges) list.addSubnet(network, prefix, type);
  return list;
}

/** Addresses that only ever reach this machine. */
const LOOPBACK = blocks([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);
/** Addresses no visitor on the internet reaches this server at (besides loopback). */
const NOT_GLOBAL = blocks([
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['224.0.0.0', 3, 'ipv4'],
  ['::', 128, 'ipv6'],
  // NAT64 addresses can name any IPv4 address, private ones included (IPv4-mapped ones are checked as IPv4).
  ['64:ff9b::', 96, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);
/** Whether `ip` is a loopback address. */
export function isLoopback(ip: string): boolean {
  return LOOPBACK.check(ip, family(ip));
}

/**
 * The agent's public addresses: SLIPWAY_PUBLIC_IPS when set, else the global unicast addresses of
 * the host's interfaces (never loopback, link-local, private or Docker's bridges: behind NAT none
 * is found, and the HTTP self-check or the setting covers it).
 */
export function publicAddresses(configured: readonly string[]): string[] {
  if (configured.length > 0) return [...configured];
  const found = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal)
    .map((a) => a!.address)
    .filter((ip) => !isLoopback(ip) && !NOT_GLOBAL.check(ip, family(ip)));
  return [...new Set(found)];
}

/** Whether `ip` is one of `ours`, comparing addresses, not spellings ("::1" equals "0:0:0:0:0:0:0:1"). */
export function isOneOf(ip: string, ours: readonly string[]): boolean {
  const list = new BlockList();
  for (const own of ours) list.addAddress(own, family(own));
  return list.check(ip, family(ip));
}

/**
 * Whether the self-check may connect to `ip`: to one of the agent's own addresses, to a global
 * unicast address, and to loopback ones only when the agent's own public addresses are loopback too
 * (a test or single-host setup). Never to a private, CGNAT, link-local (cloud metadata), ULA,
 * multicast or unspecified address, nor Docker's bridges: a tenant's name pointed there would make
 * the agent probe its own internal networks.
 */
export function selfCheckAllowed(ip: string, ours: readonly string[]): boolean {
  if (isOneOf(ip, ours)) return true;
  if (isLoopback(ip)) return ours.some(isLoopback);
  return !NOT_GLOBAL.check(ip, family(ip));
}

/** The name of the TXT record that proves a tenant owns `hostname`. */
export function ownershipRecordName(hostname: string): string {
  return `_slipway-challenge.${hostname}`;
}

/** The value that TXT record must hold. */
export function ownershipRecordValue(token: string): string {
  return `slipway-verification=${token}`;
}

/** The TXT record proving a tenant owns `hostname`. */
export function ownershipRecord(hostname: string, token: string): DnsRecord {
  const name = ownershipRecordName(hostname);
  const value = ownershipRecordValue(token);
  return { type: 'TXT', name, value, description: `a TXT record for ${name} with the value ${value}` };
}

/**
 * For each public address, the A or AAAA record that points `hostname` at it; with an ownership
 * token, then the TXT record that proves the name is the tenant's.
 */
export function dnsRecords(
  hostname: string,
  ours: readonly string[],
  ownershipToken: string | null = null,
): DnsRecord[] {
  const txt = ownershipToken === null ? [] : [ownershipRecord(hostname, ownershipToken)];
  return [...addressRecords(hostname, ours), ...txt];
}

function addressRecords(hostname: string, ours: readonly string[]): DnsRecord[] {
  return ours.map((ip) => {
    const type = isIP(ip) === 6 ? 'AAAA' : 'A';
    return {
      type,
      name: hostname,
      value: ip,
      description: `${type === 'A' ? 'an A' : 'an AAAA'} record for ${hostname} pointing to ${ip}`,
    };
  });
}
