import { afterEach, describe, expect, test } from 'bun:test';
import { closeAll, closedPort, rawUpstream, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

describe('upstream failures', () => {
  test('answers 502 with a page when the target port is closed', async () => {
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [closedPort()] }]);
    const res = await get('web.localhost');
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await res.text()).toContain('could not be reached');
  });

  test('answers 502 when the upstream resets the connection', async () => {
    const reset = rawUpstream((_head, socket) => socket.terminate());
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [reset] }]);
    expect((await get('web.localhost')).status).toBe(502);
  });

  test('answers 502 when the upstream dies in the middle of a small body', async () => {
    const truncated = rawUpstream((_head, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part');
      socket.end();
    });
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [truncated] }]);
    expect((await get('web.localhost')).status).toBe(502);
  });

  test('answers 504 after upstreamTimeoutMs when the upstream accepts but never answers', async () => {
    const silent = rawUpstream(() => {});
    const { get, edge } = startEdge([{ project: 'web', hostnames: [], targets: [silent] }], { upstreamTimeoutMs: 150 });
    const started = Date.now();
    const res = await get('web.localhost');
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await res.text()).toContain('took too long');
    expect(edge.inflight(silent)).toBe(0);
  });

  test('measures the upstream timeout to the response headers: a longer SSE stream is not cut', async () => {
    const sse = upstream(() => {
      let n = 0;
      return new Response(
        new ReadableStream({
          async pull(c) {
            await Bun.sleep(100);
            c.enqueue(new TextEncoder().encode(`data: ${n}\n\n`));
            if (++n === 5) c.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    }).address;
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [sse] }], { upstreamTimeoutMs: 150 });
    const started = Date.now();
    const res = await get('web.localhost');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe('data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  test('logs a warning naming the project and target when proxying fails', async () => {
    const warnings: object[] = [];
    const log = { info() {}, error() {}, warn: (_m: string, f?: object) => void warnings.push(f ?? {}) };
    const target = closedPort();
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [target] }], { log });
    await get('web.localhost');
    expect(warnings).toContainEqual(expect.objectContaining({ project: 'web', target, status: 502 }));
  });
});
