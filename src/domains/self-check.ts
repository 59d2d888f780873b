/**
 * The HTTP self-check: does a request for a host name, sent to the addresses the name resolves
 * to, reach this agent's edge? It covers what the DNS comparison cannot see: NAT (the name points
 * to a public address that forwards here) and proxied DNS (a CDN in front of the edge).
 */
import { nodeHttp } from '../lazy-libraries.ts';
import type { Challenge } from '../edge/route-store.ts';
import { randomToken } from '../ids.ts';

/** Where the check's token is published; the edge answers it for any host, before routing. */
export const SELF_CHECK_PREFIX = '/.well-known/slipway-check/';
/** How long a published token stays valid, should the agent stop before removing it. */
const CHALLENGE_TTL_MS = 5 * 60_000;
/** The most of a response read: the token is 32 characters. */
const MAX_BODY_BYTES = 1024;

/** The parts of the edge the check uses. */
export interface SelfCheckEdge {
  putChallenge(challenge: Challenge): number;
  removeChallenge(path: string): number;
  /** -1 while the edge has not reported on the current store. */
  progress(): { appliedVersion: number };
}

/** How the check runs. */
export interface SelfCheckOptions {
  edge: SelfCheckEdge;
  /** The edge's HTTP port, on every address. */
  port: number;
  /** Per request. */
  timeoutMs: number;
  /** How long to wait for the edge to report the token applied before asking anyway. */
  applyTimeoutMs: number;
}

/** The check's verdict; `problem` says what failed, in words. */
export type SelfCheckResult = { ok: true } | { ok: false; problem: string };

/**
 * Publishes a random token as a challenge, then GETs it from each of `addresses` (and nothing
 * else) with `hostname` as the Host header, following no redirect; passes when every address
 * answers 200 with the token. The challenge is removed whatever happens.
 */
export async function selfCheck(
  o: SelfCheckOptions,
  hostname: string,
  addresses: readonly string[],
): Promise<SelfCheckResult> {
  const path = `${SELF_CHECK_PREFIX}${randomToken(32)}`;
  const body = randomToken(32);
  const version = o.edge.putChallenge({ path, body, expiresAt: new Date(Date.now() + CHALLENGE_TTL_MS).toISOString() });
  try {
    await applied(o.edge, version, o.applyTimeoutMs);
    for (const address of addresses) {
      const answer = await get(address, o.port, hostname, path, o.timeoutMs);
      if (answer.body !== body) return { ok: false, problem: `through ${address}, ${answer.problem}` };
    }
    return { ok: true };
  } finally {
    o.edge.removeChallenge(path);
  }
}

async function applied(edge: SelfCheckEdge, version: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (edge.progress().appliedVersion < version && Date.now() < deadline) await Bun.sleep(25);
}

/** One GET to `address`; the body, or why there is none worth comparing. */
function get(
  address: string,
  port: number,
  hostname: string,
  path: string,
  timeoutMs: number,
): Promise<{ body: string | null; problem: string }> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (body: string | null, problem: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ body, problem });
    };
    const req = nodeHttp().request({
      host: address,
      port,
      path,
      method: 'GET',
      agent: false,
      headers: { host: port === 80 ? hostname : `${hostname}:${port}`, 'user-agent': 'slipway-domain-check' },
    });
    const timer = setTimeout(() => done(null, `no answer within ${timeoutMs / 1000} s`), timeoutMs);
    req.on('error', (err) => done(null, describeError(err)));
    req.on('response', (res) => {
      if (res.statusCode !== 200) return done(null, `the answer was HTTP ${res.statusCode}, not this server's token`);
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > MAX_BODY_BYTES) done(null, "the answer was not this server's token");
      });
      res.on('end', () => done(text, "the answer was not this server's token"));
      res.on('error', (err) => done(null, describeError(err)));
    });
    req.end();
  });
}

function describeError(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'the connection was refused';
  if (code === 'ECONNRESET') return 'the connection was reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'the address is unreachable';
  return `the request failed (${code ?? err.message})`;
}
