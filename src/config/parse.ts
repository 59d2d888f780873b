/** Parsers of setting values: each returns the value or throws an Error saying what was expected. */
import { isIP } from '../ip.ts';
import type { ListenAddress } from '../config.ts';
import { type Ipv4Range, PROJECT_SUBNET_PREFIX, parseIpv4Range } from '../runtime/subnets.ts';

export function parsePath(raw: string): string {
  if (raw === '') throw new Error('must not be empty');
  if (raw.includes('\0')) throw new Error('must not contain NUL');
  return raw;
}

export function parseListen(raw: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([^:]*)$/.exec(raw);
  if (!m) throw new Error('expected HOST:PORT, for example 127.0.0.1:7070 or :80');
  const hostname = m[1] ?? (m[2] || '0.0.0.0');
  if (!/^[A-Za-z0-9.:-]+$/.test(hostname)) throw new Error(`"${hostname}" is not a valid host`);
  const port = parsePort(m[3] ?? '');
  return { hostname, port };
}

export function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw new Error(`port "${raw}" is not a number from 0 to 65535`);
  const port = Number(raw);
  if (port > 65535) throw new Error(`port ${port} is not a number from 0 to 65535`);
  return port;
}

export function parseDomain(raw: string): string {
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  const d = raw.toLowerCase();
  if (d.length > 253 || !d.split('.').every((l) => label.test(l))) {
    throw new Error('expected a DNS name such as localhost or apps.example.com');
  }
  return d;
}

export function parseHttpsUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an https:// URL, or off');
  }
  if (url.protocol !== 'https:') throw new Error('expected an https:// URL, or off');
  return url.href;
}

export function parseIpList(raw: string): string[] {
  if (raw === '') return [];
  return raw.split(',').map((part) => {
    const ip = part.trim();
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IPv4 or IPv6 address`);
    return ip;
  });
}

export function parseDnsServers(raw: string): string[] {
  if (raw === '') return [];
  return raw.split(',').map((part) => {
    const server = part.trim();
    if (isIP(server) === 6) return `[${server}]:53`;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server);
    const ip = m?.[1] ?? m?.[2];
    if (!m || !ip || isIP(ip) === 0) throw new Error(`"${server}" is not an address such as 127.0.0.1:53 or [::1]:53`);
    const port = m[3] === undefined ? 53 : parsePort(m[3]);
    return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  });
}

export function parseDockerHost(raw: string): string | null {
  if (raw === '') return null;
  if (!/^(unix|tcp|http|https):\/\//.test(raw)) throw new Error('expected unix:///path or tcp://host:port');
  return raw;
}

export function parseIntIn(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

export function parseDecimalIn(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) throw new Error(`expected a number from ${min} to ${max}`);
    return n;
  };
}

export function parseProjectSubnets(raw: string): Ipv4Range | null {
  if (raw === 'docker') return null;
  const range = parseIpv4Range(raw);
  if (!range || range.prefix > PROJECT_SUBNET_PREFIX) {
    throw new Error(`expected an IPv4 range of /${PROJECT_SUBNET_PREFIX} or larger, such as 172.16.0.0/12, or docker`);
  }
  return range;
}

export function parseBoolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error('expected true or false');
}

export function parseEnum<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
}
