/**
 * Test sources for the build module, made the way a real upload is: a tar.gz run through
 * normalizeArchive with the planner's capture list, giving the stored source on disk and the
 * `paths`/`captured` planBuild reads.
 */
import type Docker from 'dockerode';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import type { Readable } from 'node:stream';
import { normalizeArchive } from '../../src/archive/normalize.ts';
import { DEFAULT_IMAGES, type BaseImages } from '../../src/config.ts';
import { filesToCapture } from '../../src/build/detect.ts';
import { tgzOf, zipOf, type TestEntry } from '../helpers/archives.ts';

/** The base images of the tests: the locally built fixtures, since no registry can be reached. */
export const FIXTURE_IMAGES: BaseImages = {
  ...DEFAULT_IMAGES,
  static: 'slipway-fixture/static:latest',
  node: 'slipway-fixture/node:latest',
};

/** The node fixture with npm and an offline npm cache holding test/fixtures/npm-app's dependencies. */
export const NODE_NPM_IMAGE = 'slipway-fixture/node-npm:latest';

/** A normalised upload: the stored tar.gz and what planning sees of it. */
export interface TestSource {
  tgz: string;
  paths: string[];
  captured: Map<string, Buffer>;
}

/** A file tree: path to content, or `{ symlink }` for a symlink, or `{ dir: true }` for an (empty) directory. */
export type Tree = Record<string, string | { symlink: string } | { dir: true }>;

/** Makes sources in one temporary directory, removed by `cleanup`. */
export function sourceFactory(): {
  make: (tree: Tree, projectDockerfile?: string | null, format?: 'tar.gz' | 'zip') => Promise<TestSource>;
  cleanup: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'slipway-build-'));
  let n = 0;
  return {
    async make(tree, projectDockerfile = null, format = 'tar.gz') {
      const dir = join(root, `source-${n++}`);
      mkdirSync(dir);
      const input = join(dir, `upload.${format}`);
      writeFileSync(input, format === 'zip' ? await zipOf(entriesOf(tree)) : tgzOf(entriesOf(tree)));
      const tgz = join(dir, 'source.tar.gz');
      const result = await normalizeArchive({
        input,
        format,
        output: tgz,
        capture: filesToCapture(projectDockerfile),
      });
      return { tgz, paths: result.paths, captured: result.captured };
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

function entriesOf(tree: Tree): TestEntry[] {
  return Object.entries(tree).map(([name, v]): TestEntry => {
    if (typeof v === 'string') return { name, body: v };
    if ('symlink' in v) return { name, type: 'symlink', linkname: v.symlink };
    return { name, type: 'directory' };
  });
}

/** Reads a tar stream (a build context) into path → content, directories mapped to `<dir>`, symlinks to `-> target`. */
export async function readTar(stream: Readable): Promise<Map<string, string>> {
  const bytes: Buffer[] = [];
  for await (const chunk of stream) bytes.push(chunk as Buffer);
  const out = new Map<string, string>();
  const ex = extract();
  ex.end(Buffer.concat(bytes));
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const name = entry.header.name.replace(/\/$/, '');
    out.set(
      name,
      entry.header.type === 'directory'
        ? '<dir>'
        : entry.header.type === 'symlink'
          ? `-> ${entry.header.linkname}`
          : Buffer.concat(chunks).toString(),
    );
  }
  return out;
}

/**
 * Removes the untagged step images that test builds left: a failed or stopped build keeps its
 * finished steps as cache, unlabelled, so cleanupByLabel cannot find them. `lines` is the
 * build output (` ---> <id>` after each step); images older than `since` (a base image, cache
 * from elsewhere) are kept.
 */
export async function removeStepImages(docker: Docker, lines: string[], since: number): Promise<void> {
  const ids = [...new Set(lines.map((l) => /^ ---> ([0-9a-f]{12})$/.exec(l)?.[1]).filter((id): id is string => !!id))];
  const images = [];
  for (const id of ids) {
    const image = await docker
      .getImage(id)
      .inspect()
      .catch(() => null);
    if (image && Date.parse(image.Created) >= since - 1000 && (image.RepoTags ?? []).length === 0) images.push(image);
  }
  for (const image of images.sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created))) {
    await docker
      .getImage(image.Id)
      .remove({ noprune: false })
      .catch(() => {});
  }
}
