import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, waitForStatus, type Agent } from '../helpers/agent.ts';
import { requireDocker } from '../helpers/docker.ts';
import { tgzOf } from '../helpers/archives.ts';

/** A build that prints what a hostile or broken Dockerfile can: 40 MB on one line. */
const P = `flood-${crypto.randomUUID().slice(0, 6)}`;
const hasDocker = await requireDocker();
let agent: Agent;

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  expect((await agent.call('POST', '/v1/projects', { name: P })).status).toBe(201);
});
afterAll(async () => {
  if (hasDocker) await retireAgent(agent, [P]);
});

describe.skipIf(!hasDocker)('build output a project controls', () => {
  test('a 40 MB line without a newline is cut at 16 KiB while the API keeps answering', async () => {
    const dockerfile = [
      'FROM slipway-fixture/static:latest',
      "RUN head -c 40000000 /dev/zero | tr '\\0' x",
      'RUN mkdir -p /www && echo flooded > /www/index.html',
      'EXPOSE 8080',
      'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]',
    ].join('\n');
    const res = await agent.call(
      'POST',
      `/v1/projects/${P}/deployments`,
      tgzOf([{ name: 'Dockerfile', body: dockerfile }]),
      {
        'content-type': 'application/gzip',
      },
    );
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    // Health checks, one after another, for as long as the build runs.
    let slowest = 0;
    let done = false;
    const polling = (async () => {
      while (!done) {
        const started = performance.now();
        const health = await fetch(`${agent.api}/v1/health`);
        await health.arrayBuffer();
        slowest = Math.max(slowest, performance.now() - started);
        await Bun.sleep(50);
      }
    })();
    const end = await waitForStatus(agent, P, id, ['live', 'failed'], 120_000);
    done = true;
    await polling;
    expect(end.status).toBe('live');
    console.log(`slowest /v1/health during the build: ${slowest.toFixed(1)} ms`);
    expect(slowest).toBeLessThan(1000);

    const log = await (await agent.call('GET', `/v1/projects/${P}/deployments/${id}/logs`)).text();
    const flood = log.split('\n').find((l) => l.startsWith('xxxx'))!;
    expect(flood).toBe(`${'x'.repeat(16 * 1024)} [line cut at 16 KiB]`);
    expect(log.length).toBeLessThan(200_000);
  }, 180_000);
});
