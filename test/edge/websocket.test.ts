import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, startEdge, until, upstream } from './helpers.ts';

afterEach(closeAll);

/** What the echo upstream saw of its sockets. */
interface EchoLog {
  handshake?: Record<string, string>;
  closes: { code: number; reason: string }[];
}

/**
 * An upstream that echoes every message, greets each socket on open, closes with 4001 when told
 * "bye", picks the second subprotocol offered, and records handshakes and closes in `log`.
 */
function echoUpstream(log: EchoLog): string {
  return upstream(
    (req, server) => {
      log.handshake = { ...Object.fromEntries(req.headers), path: req.url.slice(req.url.indexOf('/', 8)) };
      const offered =
        req.headers
          .get('sec-websocket-protocol')
          ?.split(',')
          .map((p) => p.trim()) ?? [];
      const headers = offered[1] ? { 'sec-websocket-protocol': offered[1] } : undefined;
      if (server.upgrade(req, { data: undefined, headers })) return undefined;
      return new Response('Upgrade required', { status: 426 });
    },
    {
      open: (ws) => void ws.send('hello'),
      message: (ws, message) => (message === 'bye' ? ws.close(4001, 'see you') : void ws.send(message)),
      close: (_ws, code, reason) => void log.closes.push({ code, reason }),
    },
  ).address;
}

/** Opens a WebSocket to the edge as if to web.localhost, collecting its messages. */
async function connect(port: number, protocols: string[] = []): Promise<{ ws: WebSocket; messages: unknown[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket?room=1`, { headers: { host: 'web.localhost' }, protocols });
  ws.binaryType = 'arraybuffer';
  const messages: unknown[] = [];
  ws.onmessage = (e) => messages.push(e.data);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  return { ws, messages };
}

const closed = (ws: WebSocket) => new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));

describe('WebSocket', () => {
  test('echoes text and binary messages through the edge, greeting included', async () => {
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoUpstream({ closes: [] })] }]);
    const { ws, messages } = await connect(port);
    ws.send('ping');
    ws.send(new Uint8Array([0, 1, 2, 255]));
    await until(() => messages.length === 3);
    expect(messages[0]).toBe('hello');
    expect(messages[1]).toBe('ping');
    expect(new Uint8Array(messages[2] as ArrayBuffer)).toEqual(new Uint8Array([0, 1, 2, 255]));
    ws.close();
  });

  test('forwards Host, X-Forwarded-* and the path, and negotiates the subprotocol with the upstream', async () => {
    const log: EchoLog = { closes: [] };
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoUpstream(log)] }]);
    const { ws } = await connect(port, ['chat.v1', 'chat.v2']);
    expect(ws.protocol).toBe('chat.v2');
    expect(log.handshake).toMatchObject({
      host: 'web.localhost',
      path: '/socket?room=1',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'web.localhost',
    });
    ws.close();
  });

  test('propagates close codes both ways', async () => {
    const log: EchoLog = { closes: [] };
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [echoUpstream(log)] }]);

    const fromUpstream = await connect(port);
    fromUpstream.ws.send('bye');
    const event = await closed(fromUpstream.ws);
    expect({ code: event.code, reason: event.reason }).toEqual({ code: 4001, reason: 'see you' });

    const fromVisitor = await connect(port);
    fromVisitor.ws.close(4002, 'leaving');
    await until(() => log.closes.some((c) => c.code === 4002));
    expect(log.closes).toContainEqual({ code: 4002, reason: 'leaving' });
  });

  test('delivers what the upstream sends and how it closes right after opening', async () => {
    const brief = upstream(
      (req, server) => (server.upgrade(req, { data: undefined }) ? undefined : new Response('no', { status: 400 })),
      {
        open(ws) {
          ws.send('last words');
          ws.close(4003, 'done already');
        },
        message() {},
      },
    ).address;
    const { port } = startEdge([{ project: 'web', hostnames: [], targets: [brief] }]);
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { headers: { host: 'web.localhost' } });
    const messages: unknown[] = [];
    ws.onmessage = (e) => messages.push(e.data);
    const event = await closed(ws);
    expect(messages).toEqual(['last words']);
    expect({ code: event.code, reason: event.reason }).toEqual({ code: 4003, reason: 'done already' });
  });

  test('counts an open WebSocket as in flight; waitDrained cuts it with 1001', async () => {
    const target = echoUpstream({ closes: [] });
    const { port, edge } = startEdge([{ project: 'web', hostnames: [], targets: [target] }]);
    const { ws } = await connect(port);
    expect(edge.inflight(target)).toBe(1);
    edge.setRoutes([]);
    const closing = closed(ws);
    expect(await edge.waitDrained([target], 50)).toEqual({ cut: 1 });
    expect((await closing).code).toBe(1001);
    expect(edge.inflight(target)).toBe(0);
  });

  test('lets waitDrained resolve when the visitor closes the socket itself', async () => {
    const target = echoUpstream({ closes: [] });
    const { port, edge } = startEdge([{ project: 'web', hostnames: [], targets: [target] }]);
    const { ws } = await connect(port);
    edge.setRoutes([]);
    const drained = edge.waitDrained([target], 5000);
    setTimeout(() => ws.close(1000), 50);
    expect(await drained).toEqual({ cut: 0 });
  });

  test('answers 502 when the upstream does not accept the upgrade', async () => {
    const plain = upstream(() => new Response('no sockets here', { status: 404 })).address;
    const { port, edge } = startEdge([{ project: 'web', hostnames: [], targets: [plain] }]);
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: {
        host: 'web.localhost',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    expect(res.status).toBe(502);
    expect(edge.inflight(plain)).toBe(0);
  });
});
