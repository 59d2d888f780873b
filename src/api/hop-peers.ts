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

const hops = new WeakMap<object, Map<string, string | undefined>>();

/** Records that the connection from `local` (`address:port`) to `server` carries `peer`'s requests; returns its removal. */
export function registerHop(server: object, local: string, peer: string | undefined): () => void {
  let table = hops.get(server);
  if (!table) {
    table = new Map();
    hops.set(server, table);
  }
  table.set(local, peer);
  return () => table.delete(local);
}

/** The address of the client of `request` on `server`: the visitor behind a front connection, else the socket's peer. */
export function peerAddress(server: Server<unknown> | null | undefined, request: Request): string | undefined {
  const ip = server?.requestIP(request);
  if (!ip) return undefined;
  const table = hops.get(server!);
  if (table === undefined) return ip.address;
  const key = `${ip.address}:${ip.port}`;
  return table.has(key) ? table.get(key) : ip.address;
}
