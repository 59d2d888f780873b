/**
 * Custom host names: one canonical spelling (lower case, IDNA to punycode, no trailing dot) and
 * the rules a name must pass before Slipway routes it to a project.
 */
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';
import { tldts } from '../lazy-libraries.ts';
import { ValidationError } from '../errors.ts';

/** The longest host name DNS can carry. */
export const MAX_HOSTNAME_LENGTH = 253;

/** The names the agent keeps for itself; a custom domain may be none of them. */
export interface OwnNames {
  /** Project "web" answers at web.<baseDomain>. */
  baseDomain: string;
  /** Where the edge serves the API, or null. */
  apiDomain: string | null;
}

/** A host name in canonical form, or why `raw` is not one. */
export type Canonical = { hostname: string } | { problem: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
/** What may appear before IDNA mapping: ASCII letters, digits, dashes and dots, and any non-ASCII. */
const RAW_CHARACTERS = /^[a-z0-9.\-\u0080-\u{10FFFF}]+$/u;

/**
 * The canonical spelling of `raw`: trimmed, lower case, punycode, without a trailing dot. Only
 * syntax is checked here; whether the name may be used is `refusal`'s question.
 */
export function canonicalHostname(raw: string): Canonical {
  let name = raw.trim().toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { problem: 'a host name such as shop.example.com is required' };
  if (name.includes('*')) return { problem: 'wildcards are not supported: add each host name on its own' };
  if (isIP(name) !== 0 || isIP(name.replace(/^\[|\]$/g, '')) !== 0 || /(^|\.)\d+$/.test(name))
    return { problem: 'an IP address is not a host name: point a host name at this server and add that' };
  // domainToASCII reads its input as a URL host: "a/b.com" would become "a", so refuse what no host name holds.
  if (!RAW_CHARACTERS.test(name)) return { problem: 'only letters, digits, dashes and dots may appear in a host name' };
  const ascii = domainToASCII(name);
  if (ascii === '') return { problem: 'it is not a valid internationalised host name' };
  const labels = ascii.split('.');
  if (ascii.length > MAX_HOSTNAME_LENGTH)
    return { problem: `a host name has at most ${MAX_HOSTNAME_LENGTH} characters` };
  if (labels.length < 2) return { problem: 'a host name needs at least two labels, such as shop.example.com' };
  const bad = labels.find((label) => !LABEL.test(label));
  if (bad !== undefined)
    return {
      problem:
        bad === ''
          ? 'a host name has no empty labels (two dots in a row)'
          : `the label "${bad}" is not 1 to 63 letters, digits and dashes, starting and ending with a letter or digit`,
    };
  if (/(^|\.)\d+$/.test(ascii)) return { problem: 'an IP address is not a host name' };
  return { hostname: ascii };
}

/** Why the canonical `hostname` may not be a custom domain (the agent's own names), or null. */
export function refusal(hostname: string, own: OwnNames): string | null {
  if (hostname === 'localhost' || hostname.endsWith('.localhost'))
    return 'localhost and its subdomains only ever reach the machine that asks';
  if (hostname === own.baseDomain)
    return `it is the base domain (SLIPWAY_BASE_DOMAIN), under which projects get their own names`;
  if (hostname.endsWith(`.${own.baseDomain}`))
    return `names under the base domain ${own.baseDomain} are the projects' own (<project>.${own.baseDomain})`;
  if (own.apiDomain !== null && hostname === own.apiDomain) return "it is the agent's API domain (SLIPWAY_API_DOMAIN)";
  return null;
}

/** The canonical form of a host name a user adds; a 422 saying what is wrong otherwise. */
export function normalizeHostname(raw: string, own: OwnNames): string {
  const canonical = canonicalHostname(raw);
  const problem = 'problem' in canonical ? canonical.problem : refusal(canonical.hostname, own);
  if (problem === null) return (canonical as { hostname: string }).hostname;
  const shown = raw.trim() === '' ? 'an empty host name' : `"${raw.trim()}"`;
  throw new ValidationError(`Cannot add ${shown}: ${problem}`, [{ path: '/hostname', message: upperFirst(problem) }]);
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The registered domain that a CA counts a name's orders under, and that one project at most uses ("shop.example.co.uk" → "example.co.uk"),
 * from the public suffix list, its private part included (alice.github.io and bob.github.io are two); names it
 * does not know fall back to their last two labels.
 */
export function registeredDomain(hostname: string): string {
  const name = hostname.startsWith('*.') ? hostname.slice(2) : hostname;
  return tldts().getDomain(name, { allowPrivateDomains: true }) ?? name.split('.').slice(-2).join('.');
}

/**
 * The registered domain of the agent's own names that `hostname` falls under, or null. Names under
 * it share the CA's weekly budget with every project's default name, so only an admin adds them.
 */
export function reservedRegisteredDomain(hostname: string, own: OwnNames): string | null {
  const registered = registeredDomain(hostname);
  const ours = [own.baseDomain, ...(own.apiDomain === null ? [] : [own.apiDomain])].map(registeredDomain);
  return ours.includes(registered) ? registered : null;
}
