import { afterEach, describe, expect, test } from 'bun:test';
import { UpstreamPool } from '../../src/edge/http1/upstream-pool.ts';
import { closeAll, closedPort, rawUpstream, startEdge, upstream } from './helpers.ts';

afterEach(closeAll);

/** An upstream answering with its own name and the request body it got. */
function named(name: string) {
  let served = 0;
  const up = upstream(async (req) => {
    served += 1;
    return new Response(`${name}:${await req.text()}`);
  });
  return { address: up.address, served: () => served };
}

// The native engine (the default) fails over; node's engine is the reference for framing only.
const native = { engine: 'native' as const };

describe('a target that refuses connections', () => {
  test('every request is served by the project’s other instance, and the dead one is passed over after its first refusal', async () => {
    const live = named('live');
    const dead = closedPort();
    const { get, edge } = startEdge([{ project: 'web', hostnames: [], targets: [dead, live.address] }], native);
    for (let i = 0; i < 20; i++) {
      const res = await get('web.localhost');
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('live:');
    }
    expect(live.served()).toBe(20);
    // One refused attempt on the dead target and one kept-alive connection to the live one; without
    // passing over, round robin would try the dead target on every other request.
    expect(edge.upstreamConnectionsOpened()).toBeLessThanOrEqual(3);
    expect(edge.inflight(dead)).toBe(0);
  });

  test('a request with a body reaches the other instance whole, since the refusing one received nothing', async () => {
    const live = named('live');
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [closedPort(), live.address] }], native);
    const body = 'x'.repeat(200_000);
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => get('web.localhost', '/upload', { method: 'POST', body }).then((r) => r.text())),
    );
    for (const text of answers) expect(text).toBe(`live:${body}`);
  });

  test('the visitor gets 502 when every instance refuses, after trying each once', async () => {
    const warnings: object[] = [];
    const log = { info() {}, error() {}, warn: (_m: string, f?: object) => void warnings.push(f ?? {}) };
    const { get, edge } = startEdge([{ project: 'web', hostnames: [], targets: [closedPort(), closedPort()] }], {
      ...native,
      log,
    });
    const res = await get('web.localhost');
    expect(res.status).toBe(502);
    expect(edge.upstreamConnectionsOpened()).toBe(2);
    expect(warnings).toContainEqual(expect.objectContaining({ project: 'web', status: 502 }));
  });
});

/** A dying instance: it accepts connections and closes each as soon as a request arrives. */
function hangingUp() {
  const seen: string[] = [];
  const address = rawUpstream((head, socket) => {
    seen.push(head.split(' ')[0]!);
    socket.terminate();
  });
  return { address, seen };
}

describe('a target that closes connections without answering', () => {
  test('a GET, sent once there, is answered by the other instance, and the dying one is passed over', async () => {
    const live = named('live');
    const dying = hangingUp();
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [dying.address, live.address] }], native);
    for (let i = 0; i < 10; i++) {
      const res = await get('web.localhost');
      expect([res.status, await res.text()]).toEqual([200, 'live:']);
    }
    expect(dying.seen).toEqual(['GET']);
    expect(live.served()).toBe(10);
  });

  test('a POST, which may have taken effect there, is not sent again: the visitor gets 502', async () => {
    const live = named('live');
    const dying = hangingUp();
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: [dying.address, live.address] }], native);
    const res = await get('web.localhost', '/', { method: 'POST', body: 'once' });
    expect(res.status).toBe(502);
    expect(dying.seen).toEqual(['POST']);
    expect(live.served()).toBe(0);
  });

  test("a project whose only instance hangs up never has its requests sent to another project's instance", async () => {
    const dying = hangingUp();
    const other = named('other');
    const { get } = startEdge(
      [
        { project: 'web', hostnames: [], targets: [dying.address] },
        { project: 'shop', hostnames: [], targets: [other.address] },
      ],
      native,
    );
    for (let i = 0; i < 3; i++) expect((await get('web.localhost')).status).toBe(502);
    expect(other.served()).toBe(0);
    expect(dying.seen).toEqual(['GET', 'GET', 'GET']);
  });

  test('a GET is tried on each instance once at most, then gets 502', async () => {
    const dying = [hangingUp(), hangingUp(), hangingUp(), hangingUp()];
    const { get } = startEdge([{ project: 'web', hostnames: [], targets: dying.map((d) => d.address) }], native);
    expect((await get('web.localhost')).status).toBe(502);
    // The first try and two others (MAX_FAILOVERS); none twice.
    expect(dying.map((d) => d.seen.length).sort()).toEqual([0, 1, 1, 1]);
  });
});

describe('connecting to a target that never answers', () => {
  test('gives up after the connect timeout instead of waiting for the upstream timeout', async () => {
    // A SYN dropped on the way (a powered-off node): an iptables rule of this test's own, on an
    // address and port nobody else uses, removed afterwards.
    const address = '127.0.0.77';
    const port = 40000 + Math.floor(Math.random() * 20000);
    const rule = ['OUTPUT', '-d', address, '-p', 'tcp', '--dport', String(port), '-j', 'DROP'];
    const added = Bun.spawnSync(['iptables', '-I', ...rule]);
    expect(added.exitCode).toBe(0);
    try {
      const pool = new UpstreamPool();
      const started = performance.now();
      const result = await new Promise<unknown>((resolve) => pool.connect(`${address}:${port}`, resolve, 300));
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).message).toContain('timed out after 300 ms');
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      Bun.spawnSync(['iptables', '-D', ...rule]);
    }
  });
});
