import { afterAll, describe, expect, test } from 'bun:test';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import type { DeploymentRow } from '../../src/db/deployments.ts';
import { createLogger } from '../../src/log.ts';
import { pruneImages } from '../../src/release/images.ts';
import { releaseImageLabels } from '../../src/runtime/labels.ts';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';

const docker = dockerClient();
const label = testLabel();
const agent = `agt_${label['slipway.test']}`;
const project = `prune-${label['slipway.test'].slice(2, 10)}`;
const quiet = createLogger('error', () => {});

/** A release image of `project` built by `by` (a LABEL step on the static fixture), tagged `tags`. */
async function releaseImage(tags: string[], by = agent, extra = ''): Promise<string> {
  const labels = { ...releaseImageLabels(by, project), ...label };
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
