import type { EdgeRepo, EdgeRouteRow } from '../db/edge.ts';
import type { Db } from '../db/open.ts';
import { readEdgeState, type Draining } from '../edge/edge-state.ts';
import type { Route } from '../edge/route-table.ts';
import type { Challenge, EdgeCertificate, HostEntry, StoreContents } from '../edge/route-store.ts';
import type { RouteStore } from '../edge/route-store-writer.ts';
import type { EdgeStatsSnapshot } from '../edge/stats.ts';

/** A project's route as the release code sets it. */
export interface RouteChange extends Route {
  deployment_id: string | null;
}

/** How far the edge has got: the route version it applied in this store, and what still drains. */
export interface EdgeProgress {
  /** -1 when the edge has not reported on the current store yet. */
  appliedVersion: number;
  draining: Draining[];
}

/** What the API's side of the edge is made of. */
export interface EdgeRoutesDeps {
  db: Db;
  /** The API's record of the table, in slipway.db. */
  repo: EdgeRepo;
  /** The copy the edge reads. */
  store: RouteStore;
  /** The edge's state file. */
  stateFile: string;
  /**
   * The custom host names and certificates recorded in slipway.db (domains, certificates), which
   * publishAll writes beside the routes; none when omitted.
   */
  published?: () => Omit<StoreContents, 'routes'>;
}

/**
 * The API's side of the edge: each route change is recorded in slipway.db and published to the
 * route store in one step (the record rolls back when the publication fails), and what the edge
 * reports back is read from its state file. The edge itself never sees slipway.db.
 */
export function edgeRoutes(d: EdgeRoutesDeps) {
  const state = () => readEdgeState(d.stateFile);
  const listeners = new Set<() => void>();
  const published = (version: number): number => {
    for (const listener of listeners) listener();
    return version;
  };
  return {
    /** Sets a project's targets; returns the route version the edge will report once it applied them. */
    setRoute(route: RouteChange): number {
      return published(
        d.db.transaction(() => {
          d.repo.put(route);
          return d.store.put({ project: route.project, hostnames: route.hostnames, targets: route.targets });
        })(),
      );
    },
    /** Drops a project's route; returns the new version. */
    removeRoute(project: string): number {
      return published(
        d.db.transaction(() => {
          d.repo.remove(project);
          return d.store.remove(project);
        })(),
      );
    },
    /**
     * Calls `listener` after each change is committed to the store (routes, host names,
     * certificates, challenges; publishAll runs before any edge starts): an edge in this process
     * applies it at once, without watching the store (an edge of its own watches it). Returns what
     * unsubscribes it.
     */
    onRouteChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    route: (project: string): EdgeRouteRow | undefined => d.repo.route(project),
    /**
     * Publishes the whole recorded table, replacing what the store holds. Run at every start: it
     * repairs a store that missed a change or was deleted, and it is how the routes of an install
     * that kept them only in slipway.db reach the store on upgrade.
     */
    publishAll(): number {
      const rest = d.published?.() ?? { hosts: [], certificates: [] };
      return d.store.replaceAll({ routes: d.repo.routes().map(fromRow), ...rest });
    },
    /**
     * Host names, certificates and challenges: the domain and certificate services record them in
     * slipway.db themselves and publish each change here; publishAll repairs what a crash lost.
     */
    putHost: (host: HostEntry): number => published(d.store.putHost(host)),
    removeHost: (hostname: string): number => published(d.store.removeHost(hostname)),
    putCertificate: (certificate: EdgeCertificate): number => published(d.store.putCertificate(certificate)),
    removeCertificate: (hostname: string): number => published(d.store.removeCertificate(hostname)),
    putChallenge: (challenge: Challenge): number => published(d.store.putChallenge(challenge)),
    removeChallenge: (path: string): number => published(d.store.removeChallenge(path)),
    /** The edge's progress on the current store. */
    progress(): EdgeProgress {
      const s = state();
      const current = s?.applied?.storeId === d.store.head().storeId;
      return { appliedVersion: current ? s!.applied!.version : -1, draining: s?.draining ?? [] };
    },
    /** The edge's latest request counters (from whichever process runs it), or null. */
    stats: (): EdgeStatsSnapshot | null => state()?.stats ?? null,
    close: () => d.store.close(),
  };
}

/** The API's side of the edge. */
export type EdgeRoutes = ReturnType<typeof edgeRoutes>;

function fromRow(row: EdgeRouteRow): Route {
  return {
    project: row.project,
    hostnames: JSON.parse(row.hostnames) as string[],
    targets: JSON.parse(row.targets) as string[],
  };
}
