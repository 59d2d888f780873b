import { afterAll, describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import type { DeploymentRow } from '../../src/db/deployments.ts';
import { createLogger } from '../../src/log.ts';
import { pruneImages, removeProjectImages } from '../../src/release/images.ts';
import { projectImageLabels, releaseImageLabels } from '../../src/runtime/labels.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';

const docker = dockerClient();
const label = testLabel();
const agent = `agt_${label['slipway.test']}`;
const project = `prune-${label['slipway.test'].slice(2, 10)}`;
const quiet = createLogger('error', () => {});

/**
 * A release image of `project` built by `by` (a LABEL step on the static fixture), tagged `tags`;
 * labelled with the project as images of a project's own Dockerfile are, and every release image
 * was before generated ones were labelled per agent.
 */
async function releaseImage(tags: string[], by = agent, extra = ''): Promise<string> {
  const labels = { ...projectImageLabels(by, project), ...label };
  const context = pack();
  const pairs = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  // Each image is its own: the first tag goes into its config.
  context.entry(
    { name: 'Dockerfile' },
    `FROM slipway-fixture/static:latest\nLABEL ${pairs.join(' ')}\n${extra}ENV BUILT_AS=${tags[0]}\n`,
  );
  context.finalize();
  const [first, ...rest] = tags;
  const stream = await docker.buildImage(Readable.from(context), { t: first, version: '1', rm: true });
  await new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(null))),
  );
  for (const tag of rest) {
    const [repo, version] = tag.split(':');
    await docker.getImage(first!).tag({ repo: repo!, tag: version! });
  }
  return (await docker.getImage(first!).inspect()).Id;
}

/** The rows pruning looks at: number, status and image tag. */
const row = (number: number, status: string, tag: string) =>
  ({ id: `dep_${number}`, number, status, image_tag: tag }) as DeploymentRow;

const tagsOf = async (id: string) =>
  (
    await docker
      .getImage(id)
      .inspect()
      .catch(() => null)
  )?.RepoTags?.sort() ?? null;

afterAll(() => cleanupByLabel(docker, label['slipway.test']));

describe.skipIf(!(await requireDocker()))('release image pruning', () => {
  test('removes the tags rollbacks no longer need from an image that deployments share, and the image with the last', async () => {
    // Deployments 1 and 2 were built from the same source, so they share one image under two tags.
    const [one, two, three] = [1, 2, 3].map((n) => `slipway/${project}:${n}-abcdefghij`) as [string, string, string];
    const shared = await releaseImage([one, two]);
    const other = await releaseImage([three]);
    expect(other).not.toBe(shared);

    // One release kept: #3 is live, #2 and #1 were replaced.
    const kept1 = [row(1, 'replaced', one), row(2, 'replaced', two), row(3, 'live', three)];
    expect(await pruneImages(docker, agent, project, kept1, 2, quiet)).toBe(1);
    expect(await tagsOf(shared)).toEqual([two]);
    expect(await tagsOf(other)).toEqual([three]);

    expect(await pruneImages(docker, agent, project, kept1, 1, quiet)).toBe(1);
    expect(await tagsOf(shared)).toBeNull();
    expect(await tagsOf(other)).toEqual([three]);
  }, 60_000);

  test('keeps the tag of a deployment still building, whose tag is not recorded yet, and the untagged build cache', async () => {
    const fresh = `slipway/${project}:12-uvwxyzabcd`;
    const freshId = await releaseImage([fresh]);
    // A build stage: labelled like the project's images, never tagged.
    const stage = await releaseImage([`stage-${label['slipway.test']}:1`]);
    // Another image takes the tag over and goes: the first is left untagged, with no child.
    await releaseImage([`stage-${label['slipway.test']}:1`], agent, 'ENV OTHER=1\n');
    await docker.getImage(`stage-${label['slipway.test']}:1`).remove();
    expect(await tagsOf(stage)).toEqual([]);
    const rows = [row(11, 'live', `slipway/${project}:11-abcdefghij`), { ...row(12, 'building', ''), image_tag: null }];
    await pruneImages(docker, agent, project, rows, 1, quiet);
    expect(await tagsOf(freshId)).toEqual([fresh]);
    expect(await tagsOf(stage)).toEqual([]);
    // Once deployment 12 ended without going live (and a later one is kept), its image goes.
    const later = [...rows.slice(0, 1), row(12, 'failed', fresh), row(13, 'live', `slipway/${project}:13-abcdefghij`)];
    await pruneImages(docker, agent, project, later, 1, quiet);
    expect(await tagsOf(freshId)).toBeNull();
  }, 60_000);

  test("never touches another agent's images of a project with the same name", async () => {
    const tag = `slipway/${project}:9-klmnopqrst`;
    await releaseImage([tag], 'agt_someone-else');
    await pruneImages(docker, agent, project, [], 1, quiet);
    expect(await tagsOf(tag)).toEqual([tag]);
  }, 60_000);
});

/**
 * A generated release image as projects of one agent build it now: the agent's labels only, so
 * each tag's build of the same content comes from the cache and yields the same image.
 */
async function sharedImage(tags: string[], content: string, by = agent): Promise<string> {
  const pairs = Object.entries({ ...releaseImageLabels(by), ...label }).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  const ids = new Set<string>();
  for (const tag of tags) {
    const context = pack();
    context.entry(
      { name: 'Dockerfile' },
      `FROM slipway-fixture/static:latest\nLABEL ${pairs.join(' ')}\nCOPY . /www\n`,
    );
    context.entry({ name: 'index.html' }, content);
    context.finalize();
    const stream = await docker.buildImage(Readable.from(context), { t: tag, version: '1', rm: true });
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(null))),
    );
    ids.add((await docker.getImage(tag).inspect()).Id);
  }
  expect(ids.size).toBe(1);
  return [...ids][0]!;
}

const other = `${project}-b`;
const tag = (p: string, n: number) => `slipway/${p}:${n}-abcdefghij`;

describe.skipIf(!(await requireDocker()))('images projects share', () => {
  test("pruning removes only the project's own tag of an image another project's release shares", async () => {
    const content = `<h1>${label['slipway.test']} shared</h1>`;
    const id = await sharedImage([tag(project, 21), tag(other, 1)], content);
    // Project 1's release #21 was replaced by #22 and is no longer kept.
    const rows = [row(21, 'replaced', tag(project, 21)), row(22, 'live', tag(project, 22))];
    expect(await pruneImages(docker, agent, project, rows, 1, quiet)).toBe(1);
    expect(await tagsOf(id)).toEqual([tag(other, 1)]);
    // The other project's pruning, which keeps its release, touches nothing.
    expect(await pruneImages(docker, agent, other, [row(1, 'live', tag(other, 1))], 1, quiet)).toBe(0);
    expect(await tagsOf(id)).toEqual([tag(other, 1)]);
  }, 60_000);

  test('deleting a project untags the images it shares, removes its own, and those it was labelled with before', async () => {
    const content = `<h1>${label['slipway.test']} teardown</h1>`;
    const shared = await sharedImage([tag(project, 31), tag(other, 2)], content);
    const alone = await sharedImage([tag(project, 32)], `${content} alone`);
    const old = await releaseImage([tag(project, 33)]);
    const elsewhere = await sharedImage([tag(project, 35)], content, 'agt_someone-else');
    const forgotten: string[] = [];
    await removeProjectImages(docker, agent, project, async (t) => void forgotten.push(t));
    expect(await tagsOf(shared)).toEqual([tag(other, 2)]);
    expect([await tagsOf(alone), await tagsOf(old)]).toEqual([null, null]);
    expect(await tagsOf(elsewhere)).toEqual([tag(project, 35)]);
    expect(forgotten.sort()).toEqual([31, 32, 33].map((n) => tag(project, n)));
  }, 60_000);
});
