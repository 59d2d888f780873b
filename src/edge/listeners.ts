/**
 * The edge's listening sockets: a node:http server for HTTP, and for HTTPS a node:tls server whose
 * connections, once their handshake is done, are handed to a second node:http server with the same
 * handlers. Bun's node:https has neither SNICallback nor addContext; node:tls's SNICallback works,
 * and it asks for the certificate at each handshake, so a new or renewed one is served to the next
 * handshake without touching open connections or the listener.
 *
 * Both listeners share one ConnectionGuard: the per-client cap counts a client's connections on
 * both, and on TLS a connection is admitted (or refused) when it is accepted, before its handshake,
 * so the head deadline covers the handshake too. That matters: Bun's tls.Server reports a handshake
 * timeout but leaves the socket open (measured with Bun 1.4.5).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { type CertificateStore, TLS_SETTINGS } from './certificates.ts';
import type { ConnectionGuard } from './connection-guard.ts';
import { isWebSocketUpgrade } from './headers.ts';
import { nodeHttp, nodeTls } from '../lazy-libraries.ts';

/** What the edge does with what arrives on a listener. */
export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  /** A WebSocket handshake; the socket has left the HTTP server. */
  upgrade(req: IncomingMessage, socket: Socket, early: Buffer): void;
  /** A CONNECT request; the edge is no forward proxy. */
  connect(req: IncomingMessage, socket: Socket): void;
  error(err: Error): void;
}

/** The node:http server with the edge's handlers and limits; it admits the connections it accepts when `admits`. */
export function httpServer(guard: ConnectionGuard, idleMs: number, on: ListenerHandlers, admits: boolean): Server {
  // Only WebSocket upgrades leave the HTTP server; any other Upgrade (h2c) is plain HTTP to the edge.
  const server = nodeHttp().createServer({ shouldUpgradeCallback: isWebSocketUpgrade });
  server.keepAliveTimeout = idleMs;
  // Node's own request timeout (5 minutes) would cut long uploads and SSE streams.
  server.requestTimeout = 0;
  if (admits) server.on('connection', (socket: Socket) => guard.admit(socket));
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    guard.requestStarted(req.socket);
    res.once('close', () => guard.requestEnded(req.socket));
    on.request(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, early: Buffer) => {
    guard.handedOver(socket);
    on.upgrade(req, socket, early);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    guard.handedOver(socket);
    on.connect(req, socket);
  });
  server.on('error', on.error);
  return server;
}

/**
 * The TLS listener whose connections, once their handshake is done, go to `accept` (an httpServer
 * that does not admit them, or the native engine): TLS 1.2 or 1.3 with
 * Mozilla's intermediate ciphers, HTTP/1.1 as the only ALPN protocol (the edge speaks no HTTP/2),
 * and the certificate picked by SNI from `certificates`. A handshake for a name no certificate
 * covers, or without SNI, fails.
 */
export function tlsServer(
  certificates: CertificateStore,
  guard: ConnectionGuard,
  accept: (socket: TLSSocket) => void,
  onError: (err: Error) => void,
  headerTimeoutMs: number,
): TlsServer {
  const server = nodeTls().createServer({
    ...TLS_SETTINGS,
    ALPNProtocols: ['http/1.1'],
    handshakeTimeout: headerTimeoutMs,
    SNICallback(servername, answer) {
      const context = certificates.contextFor(servername);
      if (context) answer(null, context);
      else answer(new Error(`No certificate for ${servername}`));
    },
  });
  server.on('connection', (socket: Socket) => {
    // node:http's own listener does this for the connections it accepts (its noDelay option).
    socket.setNoDelay(true);
    guard.admit(socket);
  });
  server.on('secureConnection', accept);
  // Failed handshakes are routine (scanners, names without a certificate): not logged.
  server.on('tlsClientError', (_err: Error, socket: TLSSocket) => socket.destroy());
  server.on('error', onError);
  return server;
}

/** Binds `server` now (port 0 = random) and returns the port; throws when the address is taken. */
export function bind(server: Server | TlsServer, hostname: string, port: number): number {
  server.listen(port, hostname);
  const address = server.address();
  if (!server.listening || !address || typeof address === 'string') {
    server.close();
    throw new Error(`Cannot start the edge on ${hostname}:${port}: the address is in use or unavailable`);
  }
  return address.port;
}
