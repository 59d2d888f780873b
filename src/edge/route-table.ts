/**
 * The edge's routing table: which project answers a Host header, and which of its instances
 * gets the next request. A table is immutable; EdgeProxy swaps whole tables so that a request
 * sees either the old routes or the new ones, never half of an update.
 */

/** What the deploy worker publishes for one project. */
export interface Route {
  project: string;
  hostnames: string[];
  /** "127.0.0.1:PORT" of each healthy instance */
  targets: string[];
}

/** Something to tell about routes that could not all be honoured. */
type Warn = (msg: string, fields?: object) => void;

/** A project's place in the table: its instances, taken in round-robin order. */
export class RouteEntry {
  private next = 0;

  constructor(
    readonly project: string,
    readonly targets: readonly string[],
  ) {}

  /** The next target in round-robin order, or undefined when the project has no healthy instance. */
  pick(): string | undefined {
    if (this.targets.length === 0) return undefined;
    const target = this.targets[this.next % this.targets.length];
    this.next = (this.next + 1) % this.targets.length;
    return target;
  }
}

/** An immutable map from hostname to route entry, built from the worker's routes. */
export class RouteTable {
  private readonly byHost = new Map<string, RouteEntry>();
  private readonly entries: RouteEntry[] = [];

  constructor(routes: readonly Route[] = [], baseDomain = 'localhost', warn: Warn = () => {}) {
    const base = normalizeHost(baseDomain);
    for (const route of routes) {
      const entry = new RouteEntry(route.project, [...new Set(route.targets)]);
      this.entries.push(entry);
      this.claim(`${route.project.toLowerCase()}.${base}`, entry, warn);
    }
    // Custom hostnames come second so that they can never take over a project's own address.
    for (const [i, route] of routes.entries()) {
      for (const hostname of route.hostnames) this.claim(normalizeHost(hostname), this.entries[i]!, warn);
    }
  }

  /** The entry answering a raw Host header value, if any. */
  lookup(hostHeader: string | null): RouteEntry | undefined {
    if (!hostHeader) return undefined;
    return this.byHost.get(normalizeHost(hostHeader));
  }

  /** Every target some route points at. */
  targets(): Set<string> {
    return new Set(this.entries.flatMap((e) => e.targets));
  }

  private claim(host: string, entry: RouteEntry, warn: Warn): void {
    const owner = this.byHost.get(host);
    if (owner && owner !== entry) {
      warn('Hostname is claimed by two projects; the first one keeps it', {
        hostname: host,
        project: owner.project,
        ignored: entry.project,
      });
      return;
    }
    this.byHost.set(host, entry);
  }
}

/** Lowercases a Host header value and strips its port and any trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    // An IPv6 literal: "[::1]:8080" keeps its brackets, loses its port.
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}
