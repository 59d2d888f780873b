/**
 * Verification of a custom domain before any certificate is ordered: its A, AAAA and CNAME chain
 * resolve to the agent's public addresses, or else an HTTP request for the name, sent to the
 * addresses it resolves to, reaches this edge. Both prove only that the name points at this
 * (shared) server; a domain with an ownership token also needs its TXT record, which proves the
 * tenant controls the name's DNS.
 */
import {
  dnsRecords,
  isLoopback,
  isOneOf,
  ownershipRecord,
  ownershipRecordName,
  ownershipRecordValue,
  selfCheckAllowed,
} from './addresses.ts';
import type { Lookup, TxtLookup } from './resolve.ts';
import { selfCheck, type SelfCheckOptions } from './self-check.ts';

/** What the last check found, as the domain object shows it. */
export interface LastCheck {
  at: string;
  /** How the verdict was reached: comparing DNS answers, or the HTTP self-check. */
  method: 'dns' | 'http';
  addresses: string[];
  /** "points to 198.51.100.4" */
  message: string;
}

/** A check's verdict; a failed one says why and what to do in `reason`. */
export type Verdict = { ok: true; check: LastCheck } | { ok: false; check: LastCheck; reason: string };

/** What verification needs. */
export interface VerifierOptions {
  lookup: Lookup;
  /** Reads the ownership TXT record, through the same resolvers as `lookup`. */
  lookupTxt: TxtLookup;
  /** The agent's public addresses (configured or detected). */
  publicIps: () => string[];
  /** How to run the HTTP self-check, or why it cannot run here. */
  selfCheck: SelfCheckOptions | { unavailable: string };
}

/** Checks one host name now; with an ownership token, its TXT record too. */
export type Verifier = (hostname: string, ownershipToken?: string | null) => Promise<Verdict>;

/** Makes the verifier. */
export function domainVerifier(o: VerifierOptions): Verifier {
  const pointsHere = addressVerifier(o);
  return async (hostname, ownershipToken = null) => {
    const verdict = await pointsHere(hostname);
    if (ownershipToken === null) return verdict;
    const missing = await ownershipMissing(o, hostname, ownershipToken);
    if (missing === null) return verdict;
    const check = { ...verdict.check, message: `${verdict.check.message}; ${missing.found}` };
    const reason = verdict.ok
      ? `${hostname} points to this server, but its ownership is not proven: ${missing.todo}`
      : `${verdict.reason}; and its ownership is not proven: ${missing.todo}`;
    return { ok: false, check, reason };
  };
}

/** Null when the ownership TXT record holds the token; else what was found and what to do. */
async function ownershipMissing(
  o: VerifierOptions,
  hostname: string,
  token: string,
): Promise<{ found: string; todo: string } | null> {
  const name = ownershipRecordName(hostname);
  const txt = await o.lookupTxt(name);
  if (txt.ok && txt.values.includes(ownershipRecordValue(token))) return null;
  const todo = `create ${ownershipRecord(hostname, token).description}`;
  if (!txt.ok) return { found: `the TXT lookup of ${name} failed: ${txt.error}`, todo };
  return { found: `no ownership TXT record at ${name}`, todo };
}

/** Whether the name points at this server: its addresses, or else the HTTP self-check. */
function addressVerifier(o: VerifierOptions): (hostname: string) => Promise<Verdict> {
  return async (hostname) => {
    const at = new Date().toISOString();
    const found = await o.lookup(hostname);
    const ours = o.publicIps();
    if (!found.ok) {
      const check: LastCheck = { at, method: 'dns', addresses: [], message: `the lookup failed: ${found.error}` };
      return { ok: false, check, reason: `Cannot look up ${hostname}: ${found.error}` };
    }
    const { aliases, addresses } = found;
    const alias = aliases.length > 0 ? `is an alias of ${aliases.join(', then ')}, which ` : '';
    if (addresses.length === 0) {
      const message = alias ? `${alias}has no A or AAAA record` : 'no A, AAAA or CNAME record found';
      const todo =
        ours.length > 0
          ? `: create ${dnsRecords(hostname, ours)
              .map((r) => r.description)
              .join(' and ')}`
          : '';
      const reason = alias
        ? `${hostname} ${message}${todo}`
        : `No A, AAAA or CNAME record found for ${hostname}${todo}`;
      return { ok: false, check: { at, method: 'dns', addresses, message }, reason };
    }
    const pointsTo = `${alias}points to ${words(addresses)}`;
    if (ours.length > 0 && addresses.every((ip) => isOneOf(ip, ours)))
      return { ok: true, check: { at, method: 'dns', addresses, message: pointsTo } };

    const elsewhere =
      ours.length > 0
        ? `${hostname} ${pointsTo}, not to this server (${words(ours)})`
        : `${hostname} ${pointsTo}, and this server's public address is unknown (set SLIPWAY_PUBLIC_IPS)`;
    const http = await viaHttp(o, hostname, addresses, ours);
    if (http === null)
      return {
        ok: true,
        check: { at, method: 'http', addresses, message: `${pointsTo}, which reaches this server over HTTP` },
      };
    return {
      ok: false,
      check: { at, method: http.ran ? 'http' : 'dns', addresses, message: pointsTo },
      reason: `${elsewhere}; ${http.problem}`,
    };
  };
}

/** Runs the self-check where it may run: null when it passed, else what went wrong. */
async function viaHttp(
  o: VerifierOptions,
  hostname: string,
  addresses: string[],
  ours: string[],
): Promise<{ ran: boolean; problem: string } | null> {
  if ('unavailable' in o.selfCheck) return { ran: false, problem: `no HTTP check: ${o.selfCheck.unavailable}` };
  const refused = addresses.find((ip) => !selfCheckAllowed(ip, ours));
  if (refused !== undefined) {
    // Which private address is not said: the answer would map the agent's internal networks for a tenant.
    const problem = isLoopback(refused)
      ? `${refused} is a loopback address, which reaches no server but the one asking`
      : 'it points to a private address';
    return { ran: false, problem: `no HTTP check: ${problem}` };
  }
  const result = await selfCheck(o.selfCheck, hostname, addresses).catch((err: Error) => ({
    ok: false as const,
    problem: `the check could not publish its token: ${err.message}`,
  }));
  return result.ok
    ? null
    : { ran: true, problem: `an HTTP request for it did not reach this server either (${result.problem})` };
}

/** "a", "a and b", "a, b and c". */
function words(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
