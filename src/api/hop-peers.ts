/**
 * The clients behind the API front's own connections to the internal Bun.serve (src/api/front).
 * The front hands a visitor's connection over by opening a loopback connection to the internal
 * server and piping bytes both ways, so the internal server sees the front as the peer. The front
 * records, by its connection's local address and port, the visitor's address; the API then takes
 * that as the peer wherever it would take the socket's (the per-IP limit, the activity log).
 *
 * Nothing a client sends goes into this table, so no header can claim an address here. A local
 * process that connects to the internal port itself is not in it and is what it is: a loopback
 * peer, trusted as exactly as much as on the API's own port (client-ip.ts).
 */
import type { Server } from 'bun';

/**
 * How long a closed hop's visitor is still known, at least (at most twice that). The front closes
 * its side when the visitor goes, and Bun.serve may read a request that had already arrived only
 * after that: it must still find the visitor, not the front's loopback address, which would trust
 * a forwarded header the visitor wrote. A local process that reuses the port meanwhile is taken
 * for that visitor: less trusted than it is, never more.
 */
const LINGER_MS = 2000;

/** One registration: its identity tells a hop's own removal from a later hop's on the same port. */
interface Entry {
  peer: string | undefined;
}

/** One server's hops: open ones, and closed ones in two generations, the older dropped at each sweep. */
class HopTable {
  private readonly open = new Map<string, Entry>();
  private closed = new Map<string, Entry>();
  private older = new Map<string, Entry>();
  private sweeper: ReturnType<typeof setInterval> | null = null;

  find(local: string): Entry | undefined {
    return this.open.get(local) ?? this.closed.get(local) ?? this.older.get(local);
  }

  add(local: string, entry: Entry): void {
    this.open.set(local, entry);
    this.closed.delete(local);
    this.older.delete(local);
  }

  close(local: string, entry: Entry): void {
    if (this.open.get(local) !== entry) return;
    this.open.delete(local);
    this.closed.set(local, entry);
    this.sweeper ??= setInterval(() => this.sweep(), LINGER_MS);
    this.sweeper.unref();
  }

  private sweep(): void {
    this.older = this.closed;
    this.closed = new Map();
    if (this.older.size > 0 || this.sweeper === null) return;
    clearInterval(this.sweeper);
    this.sweeper = null;
  }
}

const hops = new WeakMap<object, HopTable>();

/** Records that the connection from `local` (`address:port`) to `server` carries `peer`'s requests; returns its removal. */
export function registerHop(server: object, local: string, peer: string | undefined): () => void {
  let table = hops.get(server);
  if (!table) {
    table = new HopTable();
    hops.set(server, table);
  }
  const entry: Entry = { peer };
  table.add(local, entry);
  return () => table.close(local, entry);
}

/** The address of the client of `request` on `server`: the visitor behind a front connection, else the socket's peer. */
export function peerAddress(server: Server<unknown> | null | undefined, request: Request): string | undefined {
  const ip = server?.requestIP(request);
  if (!ip) return undefined;
  const entry = hops.get(server!)?.find(`${ip.address}:${ip.port}`);
  return entry === undefined ? ip.address : entry.peer;
}
