/**
 * The edge's routing table: which project answers a Host header, and which of its instances
 * gets the next request. A table is immutable; EdgeProxy swaps whole tables so that a request
 * sees either the old routes or the new ones, never half of an update.
 */
import type { HostEntry } from './route-store.ts';

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

/**
 * An immutable map from hostname to route entry, built from the worker's routes and the custom
 * host names (HostEntry) of the domains service. A name is claimed once, in this order: each
 * project's own `<project>.<base-domain>`, then host entries, then the routes' own hostnames (the
 * older way to publish custom names). So a custom name can never take over a project's own address;
 * a host entry is refused even for `<name>.<base-domain>` of a project not deployed yet.
 */
export class RouteTable {
  private readonly byHost = new Map<string, RouteEntry>();
  private readonly settings = new Map<string, HostEntry>();
  private readonly entries: RouteEntry[] = [];

  constructor(
    routes: readonly Route[] = [],
    baseDomain = 'localhost',
    warn: Warn = () => {},
    hosts: readonly HostEntry[] = [],
  ) {
    const base = normalizeHost(baseDomain);
    const byProject = new Map<string, RouteEntry>();
    for (const route of routes) {
      const entry = new RouteEntry(route.project, [...new Set(route.targets)]);
      this.entries.push(entry);
      byProject.set(route.project, entry);
      this.claim(`${route.project.toLowerCase()}.${base}`, entry, warn);
    }
    for (const host of hosts) {
      const name = normalizeHost(host.hostname);
      if (isProjectAddress(name, base) && name !== `${host.project.toLowerCase()}.${base}`) {
        warn("Host name is another project's own address; ignored", { hostname: name, ignored: host.project });
        continue;
      }
      // A project without a route has no entry yet, but its name is taken and keeps its settings.
      const entry = byProject.get(host.project);
      if (!entry || this.claim(name, entry, warn)) this.settings.set(name, host);
    }
    for (const [i, route] of routes.entries()) {
      for (const hostname of route.hostnames) this.claim(normalizeHost(hostname), this.entries[i]!, warn);
    }
  }

  /** The entry answering a raw Host header value, if any. */
  lookup(hostHeader: string | null): RouteEntry | undefined {
    if (!hostHeader) return undefined;
    return this.find(normalizeHost(hostHeader));
  }

  /** The entry answering a normalised host name, if any. */
  find(name: string): RouteEntry | undefined {
    return this.byHost.get(name);
  }

  /** The custom host entry for a normalised host name, if the name is one the table honours. */
  hostEntry(name: string): HostEntry | undefined {
    return this.settings.get(name);
  }

  /** Every target some route points at. */
  targets(): Set<string> {
    return new Set(this.entries.flatMap((e) => e.targets));
  }

  /** Gives `host` to `entry` unless another project has it (a route, or a host entry); false when it does. */
  private claim(host: string, entry: RouteEntry, warn: Warn): boolean {
    const owner = this.byHost.get(host)?.project ?? this.settings.get(host)?.project;
    if (owner !== undefined && owner !== entry.project) {
      warn('Hostname is claimed by two projects; the first one keeps it', {
        hostname: host,
        project: owner,
        ignored: entry.project,
      });
      return false;
    }
    this.byHost.set(host, entry);
    return true;
  }
}

/** Whether `name` has the form of a project's own address, one label under the base domain. */
function isProjectAddress(name: string, base: string): boolean {
  return name.endsWith(`.${base}`) && !name.slice(0, -base.length - 1).includes('.');
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
