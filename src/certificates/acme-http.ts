/**
 * How acme-client reaches the CA. It talks through one axios instance of its own (`acme.axios`),
 * shared by every client in the process, so its settings are made here once:
 * - trust: the system's roots plus every SLIPWAY_ACME_CA_FILE seen (Pebble's, a private CA's);
 * - no retries inside a request: acme-client would otherwise sleep through a CA's Retry-After
 *   (an hour, for a rate limit) in the middle of an order, holding the name's lock. Slipway retries
 *   whole orders with its own backoff instead;
 * - a rate-limited answer becomes an OrderFailure carrying the time the CA gave.
 *
 * acme-client (with axios, node-forge and @peculiar/x509 under it) is loaded by the first order,
 * through loadAcme(), not when the agent starts: evaluating it took about 70 ms of every start.
 */
import { readFileSync } from 'node:fs';
import type * as Acme from 'acme-client';
import type { AxiosAdapter, AxiosStatic } from 'axios';
import { OrderFailure } from './order-failure.ts';
import { nodeHttps, nodeTls } from '../lazy-libraries.ts';

const RATE_LIMITED = 'urn:ietf:params:acme:error:rateLimited';
/** When a CA says "rate limited" without Retry-After. */
const DEFAULT_RETRY_AFTER_SECONDS = 3600;

const extraCas = new Set<string>();
/** How many of extraCas the loaded client trusts. */
let trusted = 0;
let loading: Promise<typeof Acme> | null = null;
let loaded: typeof Acme | null = null;

/**
 * Prepares acme-client's HTTP client; `caFile` adds trust for the ACME server's own TLS. The file
 * is read now (a missing one fails the start, as before); the client takes it when it is loaded.
 */
export function configureAcmeHttp(caFile: string | null): void {
  if (caFile) extraCas.add(readFileSync(caFile, 'utf8'));
  if (loaded) trustExtraCas(loaded);
}

/** acme-client, loaded on first use, with its HTTP client configured as above. */
export function loadAcme(): Promise<typeof Acme> {
  loading ??= Promise.all([import('acme-client'), import('axios')]).then(([acme, { default: axios }]) => {
    loaded = acme;
    configureOnce(acme, axios);
    trustExtraCas(acme);
    return acme;
  });
  return loading;
}

function trustExtraCas(acme: typeof Acme): void {
  if (extraCas.size === trusted) return;
  trusted = extraCas.size;
  acme.axios.defaults.httpsAgent = new (nodeHttps().Agent)({ ca: [...nodeTls().rootCertificates, ...extraCas] });
}

function configureOnce(acme: typeof Acme, axios: AxiosStatic): void {
  (acme.axios.defaults as unknown as { acmeSettings: { retryMaxAttempts: number } }).acmeSettings.retryMaxAttempts = 0;
  acme.axios.defaults.adapter = unreachableAsTyped(axios.getAdapter(acme.axios.defaults.adapter ?? 'http'));
  acme.axios.interceptors.response.use((response) => {
    const data = response.data as { type?: unknown; detail?: unknown } | undefined;
    if (response.status === 429 || data?.type === RATE_LIMITED) {
      const detail = typeof data?.detail === 'string' ? data.detail : `HTTP ${response.status}`;
      const seconds = retryAfterSeconds(response.headers['retry-after']);
      throw new OrderFailure(`The CA is rate limiting this agent: ${detail}`, { retryAfterMs: seconds * 1000 });
    }
    return response;
  });
}

/**
 * The CA could not be reached: no HTTP answer at all (connection refused, TLS failure, timeout).
 * With retries off, acme-client's own handling of such an error fails on the missing response, so
 * the adapter turns it into this error before acme-client sees it.
 */
export class CaUnreachable extends Error {
  constructor(
    readonly url: string,
    readonly detail: string,
  ) {
    super(`${detail} (${url})`);
    this.name = 'CaUnreachable';
  }
}

/** Wraps an axios adapter so that a request that got no response rejects with a CaUnreachable (which has no `config`). */
function unreachableAsTyped(adapter: AxiosAdapter): AxiosAdapter {
  return async (config) => {
    try {
      return await adapter(config);
    } catch (err) {
      const e = err as { response?: unknown; code?: unknown; message?: unknown };
      if (e?.response) throw err;
      const code = typeof e?.code === 'string' ? e.code : null;
      const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
      const detail = code && !message.includes(code) ? `${code}: ${message}` : message;
      throw new CaUnreachable(config.url ?? '', detail);
    }
  };
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date. */
export function retryAfterSeconds(header: unknown): number {
  if (typeof header !== 'string' || header.trim() === '') return DEFAULT_RETRY_AFTER_SECONDS;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? DEFAULT_RETRY_AFTER_SECONDS : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
