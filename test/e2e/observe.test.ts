import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';
import { fixtureTgz } from '../helpers/fixtures.ts';
import { readSse, type SseEvent } from '../helpers/sse.ts';

/** A project name of its own, so runs sharing one engine never touch each other's containers. */
const P = `obs-${crypto.randomUUID().slice(0, 6)}`;

const hasDocker = await requireDocker();
const HOST = `${P}.localhost`;
const SECRET = 'pw-7c1e9a55d0';
/** A value every encoding changes. */
const SPECIAL = 'k"y/+?&=s3cr3t';
let agent: Agent;

async function deploy(version: string): Promise<void> {
  const res = await agent.call(
    'POST',
    `/v1/projects/${P}/deployments`,
    new Uint8Array(fixtureTgz('node-app', { VERSION: version })),
    { 'content-type': 'application/gzip' },
  );
  expect((await waitForStatus(agent, P, ((await res.json()) as { id: string }).id, ['live', 'failed'])).status).toBe(
    'live',
  );
}

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect(
    (await agent.call('POST', '/v1/projects', { name: P, health_check_path: '/health', memory_mb: 256 })).status,
  ).toBe(201);
  await agent.call('PATCH', `/v1/projects/${P}/env?restart=false`, { vars: { DB_PASSWORD: SECRET, API_KEY: SPECIAL } });
  await deploy('v1');
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

type Entry = { time: string; instance: string; stream: string; line: string };

/** Reads SSE data events as JSON until `until` says stop. */
async function readEvents(res: Response, until: (seen: Entry[]) => boolean): Promise<Entry[]> {
  const parse = (events: SseEvent[]) =>
    events.filter((e) => e.data.startsWith('{')).map((e) => JSON.parse(e.data) as Entry);
  return parse(await readSse(res, (events) => until(parse(events))));
}

describe.skipIf(!hasDocker)('runtime logs and metrics', () => {
  test('recent logs carry time, instance and stream', async () => {
    await viaEdge(agent.edgePort!, HOST, '/log?msg=first');
    await Bun.sleep(300);
    const res = await agent.call('GET', `/v1/projects/${P}/logs?tail=20`);
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: Entry[] };
    expect(data.map((e) => [e.stream, e.line])).toEqual(
      expect.arrayContaining([
        ['stdout', 'fixture v1 listening on 8080'],
        ['stdout', 'out: first'],
        ['stderr', 'err: first'],
      ]),
    );
    expect(data[0]!.instance).toMatch(/^\d+-[0-9a-f]{8}$/);
    expect(Date.parse(data[0]!.time)).toBeGreaterThan(Date.now() - 120_000);
  });

  test('recent logs mask secrets in base64, URL-encoded and JSON-escaped form', async () => {
    const forms = [
      Buffer.from(SECRET).toString('base64'),
      Buffer.from(`user:${SPECIAL}`).toString('base64url'),
      encodeURIComponent(SPECIAL),
      JSON.stringify(SPECIAL).slice(1, -1),
    ];
    for (const form of forms) await viaEdge(agent.edgePort!, HOST, `/log?msg=${encodeURIComponent(`enc ${form}`)}`);
    await Bun.sleep(300);
    const { data } = (await (await agent.call('GET', `/v1/projects/${P}/logs?tail=50`)).json()) as { data: Entry[] };
    const encoded = data.filter((e) => e.stream === 'stdout' && e.line.startsWith('out: enc '));
    expect(encoded).toHaveLength(forms.length);
    for (const e of encoded) expect(e.line).toContain('••••••');
    for (const form of forms) expect(data.filter((e) => e.line.includes(form))).toEqual([]);
  });

  test('following streams new lines with secret values masked, and follows a redeploy', async () => {
    const res = await agent.call('GET', `/v1/projects/${P}/logs?follow=true&tail=0`);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reading = readEvents(res, (seen) => seen.some((e) => e.line === 'fixture v2 listening on 8080'));
    await Bun.sleep(1500);
    await viaEdge(agent.edgePort!, HOST, `/log?msg=${encodeURIComponent(`password is ${SECRET}`)}`);
    await deploy('v2');
    const seen = await reading;
    const lines = seen.map((e) => e.line);
    expect(lines).toContain('out: password is ••••••');
    expect(lines).toContain('err: password is ••••••');
    expect(lines).toContain('fixture v2 listening on 8080');
    expect(JSON.stringify(seen)).not.toContain(SECRET);
  });

  test('per-container metrics come from Docker stats', async () => {
    const res = await agent.call('GET', `/v1/projects/${P}/metrics`);
    const { data } = (await res.json()) as { data: Record<string, number | string>[] };
    expect(data).toHaveLength(1);
    expect(data[0]!.memory_limit_bytes).toBe(256 * 1024 * 1024);
    expect(data[0]!.memory_bytes as number).toBeGreaterThan(1024 * 1024);
    expect(data[0]!.uptime_seconds as number).toBeGreaterThanOrEqual(0);
    expect(data[0]!.restarts).toBe(0);
    expect(typeof data[0]!.cpu_percent).toBe('number');
  });

  test('/metrics is Prometheus text a parser accepts, admin only', async () => {
    for (let i = 0; i < 5; i++) await viaEdge(agent.edgePort!, HOST, '/');
    await Bun.sleep(2500); // the edge publishes its counters every 2 s
    const res = await agent.call('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = parsePrometheusTextFormat(await res.text()) as {
      name: string;
      type: string;
      metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }[];
    }[];
    const family = (name: string) => families.find((f) => f.name === name)!;
    expect(family('slipway_uptime_seconds').type).toBe('GAUGE');
    expect(family('slipway_deployments').metrics).toContainEqual({ labels: { status: 'live' }, value: '1' });
    expect(family('slipway_deployments').metrics).toContainEqual({ labels: { status: 'replaced' }, value: '1' });
    expect(family('slipway_build_duration_seconds').type).toBe('HISTOGRAM');
    const edge = family('slipway_edge_requests_total').metrics.find(
      (m) => m.labels?.project === P && m.labels?.status === '2xx',
    );
    expect(Number(edge?.value)).toBeGreaterThanOrEqual(5);
    expect(family('slipway_edge_request_duration_seconds').type).toBe('HISTOGRAM');
    expect(Number(family('slipway_container_memory_limit_bytes').metrics[0]!.value)).toBe(256 * 1024 * 1024);
    const reader = await agent.call('POST', '/v1/tokens', { name: 'reader', scope: 'read' });
    const { token } = (await reader.json()) as { token: string };
    expect((await fetch(`${agent.api}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });
});
