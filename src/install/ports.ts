/**
 * Which TCP ports have a listening socket, read from /proc/net/tcp and tcp6: no privilege and no
 * bind attempt needed (binding :80 as a user fails for the wrong reason).
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';

/** The ports some socket listens on, from the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningPorts(procNetTcp: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st …; local_address is HEXIP:HEXPORT.
    if (fields.length < 4 || fields[3] !== LISTEN) continue;
    const port = parseInt(fields[1]!.split(':')[1] ?? '', 16);
    if (Number.isInteger(port)) ports.add(port);
  }
  return ports;
}

/** The listening ports of this host (network namespace), IPv4 and IPv6. */
export function hostListeningPorts(): Set<number> {
  const all = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const p of listeningPorts(readFileSync(file, 'utf8'))) all.add(p);
    } catch {
      // no IPv6, or no /proc: what was read is all there is
    }
  }
  return all;
}

/** The address to reach a listen address from this host: a wildcard becomes loopback. */
export function dialHost(hostname: string): string {
  if (hostname === '0.0.0.0' || hostname === '') return '127.0.0.1';
  if (hostname === '::') return '[::1]';
  return hostname.includes(':') ? `[${hostname}]` : hostname;
}

/** A fetch failure in a few words: "connection refused" rather than the runtime's sentence. */
export function networkReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ConnectionRefused: 'connection refused',
    ENOTFOUND: 'unknown host',
    ECONNRESET: 'connection reset',
    ETIMEDOUT: 'timed out',
    TimeoutError: 'timed out',
  };
  return (code && words[code]) || ((err as Error).name === 'TimeoutError' ? 'timed out' : (err as Error).message);
}
