/**
 * What DNS says about a host name: its CNAME chain and the A and AAAA addresses at its end,
 * through SLIPWAY_DNS_SERVERS or the system's resolvers.
 */
import { Resolver } from 'node:dns/promises';

/** What a lookup found. */
export type Resolution =
  | {
      ok: true;
      /** The aliases followed, in order: ["shop.example.net", "edge.example.net"]. */
      aliases: string[];
      /** A then AAAA addresses of the name (the resolver follows the chain). */
      addresses: string[];
    }
  /** The resolvers failed (no answer, refused, server failure): nothing can be concluded. */
  | { ok: false; error: string };

/** Looks a host name up. */
export type Lookup = (hostname: string) => Promise<Resolution>;

/** Answers meaning "no such name" or "no record of that type", which are findings, not failures. */
const NOTHING = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);
/** Longest CNAME chain followed; resolvers give up well before. */
const MAX_ALIASES = 8;

/**
 * A lookup through `servers` ("host:port"; the system's resolvers when empty), each query bounded
 * by `timeoutMs`. Each lookup has a resolver of its own: one kept between checks caches answers,
 * the negative ones included, and a re-check would not see a record the user just created.
 */
export function dnsLookup(servers: readonly string[], timeoutMs = 2000): Lookup {
  return async (hostname) => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers.length > 0) resolver.setServers([...servers]);
    const addressesOf = async (name: string) => {
      const [v4, v6] = await Promise.all([query(() => resolver.resolve4(name)), query(() => resolver.resolve6(name))]);
      return [...v4, ...v6];
    };
    try {
      const [direct, aliases] = await Promise.all([
        addressesOf(hostname),
        chain(hostname, (name) => query(() => resolver.resolveCname(name))),
      ]);
      // A server that answers one alias deep only (some authoritative ones) leaves the rest to us.
      const addresses = direct.length === 0 && aliases.length > 0 ? await addressesOf(aliases.at(-1)!) : direct;
      return { ok: true, aliases, addresses };
    } catch (err) {
      return { ok: false, error: describeFailure(err, servers) };
    }
  };
}

/** The TXT records of a name (each record's strings joined), or why the resolvers failed. */
export type TxtLookup = (name: string) => Promise<{ ok: true; values: string[] } | { ok: false; error: string }>;

/** A TXT lookup through `servers`, like dnsLookup: a resolver of its own per lookup, so no answer is cached. */
export function dnsTxtLookup(servers: readonly string[], timeoutMs = 2000): TxtLookup {
  return async (name) => {
    const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
    if (servers.length > 0) resolver.setServers([...servers]);
    try {
      const records = await query(() => resolver.resolveTxt(name));
      return { ok: true, values: records.map((chunks) => chunks.join('')) };
    } catch (err) {
      return { ok: false, error: describeFailure(err, servers) };
    }
  };
}

async function query<T>(run: () => Promise<T[]>): Promise<T[]> {
  try {
    return await run();
  } catch (err) {
    if (NOTHING.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

async function chain(hostname: string, cname: (name: string) => Promise<string[]>): Promise<string[]> {
  const aliases: string[] = [];
  let name = hostname;
  while (aliases.length < MAX_ALIASES) {
    const [next] = await cname(name);
    if (next === undefined) break;
    const target = next.toLowerCase().replace(/\.$/, '');
    if (target === hostname || aliases.includes(target)) break;
    aliases.push(target);
    name = target;
  }
  return aliases;
}

function describeFailure(err: unknown, servers: readonly string[]): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
  const by = servers.length > 0 ? `the DNS server${servers.length > 1 ? 's' : ''} ${servers.join(', ')}` : 'DNS';
  const what: Record<string, string> = {
    ETIMEOUT: `${by} did not answer in time`,
    ECONNREFUSED: `${by} refused the connection`,
    ESERVFAIL: `${by} answered with a server failure`,
    EREFUSED: `${by} refused the query`,
  };
  return what[code] ?? `${by} failed (${code})`;
}
