/**
 * Generated release images carry only the agent's labels, so a new project's label step comes from
 * the cache, and two projects uploading the same content build one image, tagged once for each.
 * Deleting one project must leave the other's release, and its rollbacks, whole; neither project
 * may build on the other's image.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { retireAgent, startAgent, viaEdge, waitForStatus, type Agent } from '../helpers/agent.ts';
import { tgzOf } from '../helpers/archives.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

const run = crypto.randomUUID().slice(0, 6);
const [A, B, C] = [`same-a-${run}`, `same-b-${run}`, `other-c-${run}`];
const innocent = `innocent-${run}`;
const hasDocker = await requireDocker();
const docker = dockerClient();
let agent: Agent;

interface Deployed {
  id: string;
  status: string;
  failure_reason: string | null;
  image: { id: string; tag: string };
}

async function deploy(project: string, files: { name: string; body: string }[]): Promise<Deployed> {
  const res = await agent.call('POST', `/v1/projects/${project}/deployments`, tgzOf(files), {
    'content-type': 'application/gzip',
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  return (await waitForStatus(agent, project, id, ['live', 'failed'])) as unknown as Deployed;
}

const page = (body: string) => [{ name: 'index.html', body }];
const text = async (project: string) => (await viaEdge(agent.edgePort!, `${project}.localhost`)).text();
const tagsOf = async (id: string) => (await docker.getImage(id).inspect()).RepoTags.sort();

beforeAll(async () => {
  if (!hasDocker) return;
  agent = await startAgent();
  for (const name of [A, B, C]) expect((await agent.call('POST', '/v1/projects', { name })).status).toBe(201);
});
afterAll(async () => {
  if (!hasDocker) return;
  await docker
    .getImage(`${innocent}:1`)
    .remove()
    .catch(() => {});
  await retireAgent(agent, [A, B, C]);
});

describe.skipIf(!hasDocker)('two projects deploying the same content', () => {
  const same = `<h1>the same ${run}</h1>`;
  let a1: Deployed;
  let b1: Deployed;

  test('build one image, tagged for each project', async () => {
    a1 = await deploy(A, page(same));
    b1 = await deploy(B, page(same));
    expect([a1.status, b1.status]).toEqual(['live', 'live']);
    expect(b1.image.id).toBe(a1.image.id);
    expect(await tagsOf(a1.image.id)).toEqual([a1.image.tag, b1.image.tag].sort());
    expect([await text(A), await text(B)]).toEqual([same, same]);
  }, 120_000);

  test("a new project's first build takes the label step from the cache, and copies its own source", async () => {
    const c1 = await deploy(C, page(`<h1>c one ${run}</h1>`));
    expect(c1.status).toBe('live');
    const log = (await (await agent.call('GET', `/v1/projects/${C}/deployments/${c1.id}/logs`)).text()).split('\n');
    const after = (step: RegExp) => log[log.findIndex((l) => step.test(l)) + 1];
    expect(after(/^Step \d+\/\d+ : LABEL slipway\.managed="true" slipway\.agent="agt_/)).toBe(' ---> Using cache');
    expect(after(/^Step \d+\/\d+ : COPY \. \/www$/)).not.toBe(' ---> Using cache');
    expect(c1.image.id).not.toBe(a1.image.id);
  }, 120_000);

  test("may not build on the other's image, even under an innocent name", async () => {
    await docker.getImage(b1.image.tag).tag({ repo: innocent, tag: '1' });
    try {
      const refused = await deploy(A, [{ name: 'Dockerfile', body: `FROM ${innocent}:1\n` }]);
      expect(refused.status).toBe('failed');
      expect(refused.failure_reason).toContain(
        `FROM ${innocent}:1 is an image with Slipway's labels (slipway.agent, slipway.managed); builds may not use it`,
      );
    } finally {
      await docker.getImage(`${innocent}:1`).remove();
    }
  }, 120_000);

  test("deleting one leaves the other's release running, and its rollback to the shared image works", async () => {
    const b2 = await deploy(B, page(`<h1>b two ${run}</h1>`));
    expect(b2.status).toBe('live');
    expect((await agent.call('DELETE', `/v1/projects/${A}`)).status).toBe(204);

    expect(await tagsOf(b1.image.id)).toEqual([b1.image.tag]);
    expect(await docker.listImages({ filters: { reference: [`slipway/${A}`] } })).toEqual([]);
    expect(await text(B)).toBe(`<h1>b two ${run}</h1>`);

    const res = await agent.call('POST', `/v1/projects/${B}/rollback`, { deployment_id: b1.id });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    expect((await waitForStatus(agent, B, id, ['live', 'failed'])).status).toBe('live');
    expect(await text(B)).toBe(same);
  }, 120_000);
});
