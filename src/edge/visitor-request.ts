/**
 * What the edge accepts from a visitor before routing, on top of what Bun's HTTP parser already
 * refuses (control characters, conflicting lengths, bad methods and versions). A request the
 * edge cannot route unambiguously is answered 400 (RFC 9112 §3.2, §3.2.1, §6.3): it is never
 * guessed at, repaired or normalised, so the app behind sees exactly what passed the checks.
 */
import { isIPv6 } from '../ip.ts';

/** A request that passed, with the Host to route by, as sent; or why it did not. */
export type RequestCheck = { ok: true; host: string } | { ok: false; problem: string };

/** A host name: letters, digits and hyphens in dot-separated labels, an optional trailing dot. */
const NAME = /^(?:[A-Za-z0-9-]{1,63}\.)*[A-Za-z0-9-]{1,63}\.?$/;

/** Host header grammar: a name or a bracketed IPv6 literal, then an optional port of digits. */
const HOST = /^(?:\[(?<ipv6>[0-9A-Fa-f:.]+)\]|(?<name>[^:[\]]+))(?::(?<port>\d{1,5}))?$/;

/**
 * Checks the Host header, the request target and the body framing of a visitor's request;
 * `names` are the raw list's names lowercased, when the caller has them.
 */
export function checkRequest(rawHeaders: readonly string[], target: string, names?: readonly string[]): RequestCheck {
  // One pass, no arrays: this runs on every request the edge routes.
  let host: string | undefined;
  let hosts = 0;
  let lastCodings: string | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = names ? names[i >> 1] : rawHeaders[i]!.toLowerCase();
    if (name === 'host') {
      hosts++;
      host = rawHeaders[i + 1]!;
    } else if (name === 'transfer-encoding') lastCodings = rawHeaders[i + 1]!;
  }
  if (hosts > 1) return { ok: false, problem: 'more than one Host header' };
  const checked = checkHost(host ?? null, target);
  if (!checked.ok) return checked;
  // The last coding of the last Transfer-Encoding line must be chunked.
  if (lastCodings !== undefined && lastCodings.split(',').at(-1)!.trim().toLowerCase() !== 'chunked') {
    return { ok: false, problem: 'a body without chunked framing' };
  }
  return checked;
}

/**
 * Checks the one Host header (null when there is none) and the request target of a request whose
 * other fields passed: a strict parser's, or checkRequest's.
 */
export function checkHost(host: string | null, target: string): RequestCheck {
  if (host === null) return { ok: false, problem: 'no Host header' };
  if (!validHost(host)) return { ok: false, problem: 'an invalid Host header' };
  // Origin form only: an absolute URI could name another authority than Host, and "#" ends a URI.
  if (!target.startsWith('/') || target.includes('#')) return { ok: false, problem: 'an invalid request target' };
  return { ok: true, host };
}

/** Host header values seen lately and whether each is valid; cleared when it grows past HOSTS_KEPT. */
const checkedHosts = new Map<string, boolean>();
const HOSTS_KEPT = 1024;

/** Whether `value` is a host name or bracketed IPv6 literal with an optional numeric port. */
export function validHost(value: string): boolean {
  let valid = checkedHosts.get(value);
  if (valid === undefined) {
    valid = hostGrammar(value);
    if (checkedHosts.size >= HOSTS_KEPT) checkedHosts.clear();
    if (value.length <= 300) checkedHosts.set(value, valid);
  }
  return valid;
}

function hostGrammar(value: string): boolean {
  const m = HOST.exec(value);
  if (!m?.groups) return false;
  const { ipv6, name, port } = m.groups;
  if (port !== undefined && Number(port) > 65535) return false;
  if (ipv6 !== undefined) return isIPv6(ipv6);
  return name!.length <= 254 && NAME.test(name!);
}
