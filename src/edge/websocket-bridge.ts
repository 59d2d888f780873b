/**
 * One proxied WebSocket. The edge connects to the target with Bun's WebSocket client first and
 * only then accepts the visitor's upgrade (server.upgrade works after an await), so an upstream
 * that refuses shows up as a 502 page instead of a socket that opens and dies at once.
 * Messages are relayed as they are, text as text and binary as binary, and close codes cross.
 */
import type { ServerWebSocket, WebSocketHandler } from 'bun';
import type { Visitor } from './forwarded.ts';
import { upstreamRequestHeaders } from './headers.ts';
import { upstreamUrl } from './http-exchange.ts';
import type { Exchange, Target } from './target.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Why connecting upstream failed, as the status the visitor should get. */
export class UpstreamConnectError extends Error {
  constructor(
    readonly status: 502 | 504,
    message: string,
  ) {
    super(message);
  }
}

/** Either end of the bridge: both kinds of socket can be closed with a code or cut abruptly. */
interface Closable {
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** The upstream and visitor sockets of one proxied WebSocket, counted as an exchange on its target. */
export class WebSocketBridge implements Exchange {
  private visitor: ServerWebSocket<WebSocketBridge> | undefined;
  /** Messages the upstream sent between its open and the visitor's. */
  private early: (string | ArrayBuffer)[] = [];
  /** How the upstream closed, when that happened before the visitor's socket opened. */
  private closedEarly: { code: number; reason: string } | undefined;
  private over = false;
  private end: () => void = () => {};

  private constructor(private readonly upstream: WebSocket) {}

  /** Opens the upstream side; resolves once the target accepted, rejects with UpstreamConnectError. */
  static async connect(
    req: Request,
    target: Target,
    visitor: Visitor,
    trusted: TrustedProxies,
    timeoutMs: number,
  ): Promise<WebSocketBridge> {
    const protocols = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
    const upstream = new WebSocket(upstreamUrl(req, target.address).replace('http:', 'ws:'), {
      headers: upstreamRequestHeaders(req.headers, visitor, trusted, true),
      protocols: protocols.filter(Boolean),
    });
    upstream.binaryType = 'arraybuffer';
    const bridge = new WebSocketBridge(upstream);
    bridge.end = target.begin(bridge);
    try {
      await bridge.opened(timeoutMs);
    } catch (err) {
      bridge.finish();
      upstream.terminate();
      throw err;
    }
    bridge.listen();
    return bridge;
  }

  /** The subprotocol the upstream picked, for the visitor's handshake ("" when none). */
  get protocol(): string {
    return this.upstream.protocol;
  }

  /** Ends both sides abruptly-but-politely: 1001 "going away", as a server that shuts down does. */
  cut(): void {
    this.cutEarly();
    if (this.over) return;
    this.finish();
    this.visitor?.close(1001, 'Server is draining');
    this.upstream.close(1001, 'Proxy is draining');
  }

  /** Called by the handlers once the visitor's socket is open. */
  attach(ws: ServerWebSocket<WebSocketBridge>): void {
    this.visitor = ws;
    for (const message of this.early) ws.send(message);
    this.early = [];
    if (this.closedEarly) relayClose(ws, this.closedEarly.code, this.closedEarly.reason);
    else if (this.over) ws.close(1001, 'Server is draining');
  }

  /** Called by the handlers for each visitor message. */
  fromVisitor(message: string | Buffer): void {
    if (!this.over && this.upstream.readyState === WebSocket.OPEN) this.upstream.send(message);
  }

  /** Called by the handlers when the visitor's socket closed. */
  visitorClosed(code: number, reason: string): void {
    if (this.over) return;
    this.finish();
    relayClose(this.upstream, code, reason);
  }

  /** Set while the handshake runs, so that a drain can fail it. */
  private cutEarly: () => void = () => {};

  private opened(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (status: 502 | 504, message: string) => {
        clearTimeout(timer);
        reject(new UpstreamConnectError(status, message));
      };
      const timer = setTimeout(() => fail(504, 'Upstream timed out'), timeoutMs);
      this.upstream.onopen = () => {
        clearTimeout(timer);
        resolve();
      };
      this.upstream.onerror = () => fail(502, 'Upstream refused the WebSocket');
      this.upstream.onclose = () => fail(502, 'Upstream closed during the handshake');
      this.cutEarly = () => fail(502, 'Target is draining');
    });
  }

  private listen(): void {
    this.cutEarly = () => {};
    this.upstream.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
      if (this.visitor) this.visitor.send(e.data);
      else this.early.push(e.data);
    };
    this.upstream.onclose = (e) => {
      if (this.over) return;
      this.finish();
      if (this.visitor) relayClose(this.visitor, e.code, e.reason);
      else this.closedEarly = { code: e.code, reason: e.reason };
    };
    this.upstream.onerror = null;
  }

  private finish(): void {
    if (this.over) return;
    this.over = true;
    this.end();
  }
}

/** Bun.serve `websocket` handlers that hand each event to the socket's bridge. */
export const bridgeHandlers: WebSocketHandler<WebSocketBridge> = {
  open: (ws) => ws.data.attach(ws),
  message: (ws, message) => ws.data.fromVisitor(message),
  close: (ws, code, reason) => ws.data.visitorClosed(code, reason),
};

/**
 * Repeats a close on the other socket. 1006 and 1015 mean "no close frame" and may not be sent,
 * so the other side is cut the same way; 1005 means "no code", so none is sent.
 */
function relayClose(socket: Closable, code: number, reason: string): void {
  if (code === 1006 || code === 1015) {
    socket.terminate();
    return;
  }
  if (code === 1005) {
    socket.close();
    return;
  }
  try {
    socket.close(code, reason);
  } catch {
    socket.close();
  }
}
