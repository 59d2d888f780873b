/**
 * Real builds for the tests: a tree goes through the upload path (normalise, plan, context) and
 * is built on the test engine with a unique tag and the test's labels; `cleanup` removes every
 * image and container made, including the unlabelled step images of failed or stopped builds.
 */
import type Docker from 'dockerode';
import { buildImage, type BuildOptions, type BuiltImage } from '../../src/build/builder.ts';
import { buildContext } from '../../src/build/context.ts';
import { buildLabelledImage } from '../../src/build/labelled.ts';
import type { BuildSandbox } from '../../src/build/sandbox.ts';
import { planBuild, type BuildPlan } from '../../src/build/plan.ts';
import { cleanupByLabel, testLabel } from '../helpers/docker.ts';
import type { BaseImages } from '../../src/config.ts';
import { FIXTURE_IMAGES, removeStepImages, sourceFactory, type TestSource, type Tree } from './sources.ts';

const MiB = 1024 ** 2;

/**
 * The engine's default bridge, no process limit: for tests of what builds do rather than of how
 * they are confined (test/build/isolation.test.ts builds in a real sandbox).
 */
export const PLAIN_SANDBOX: BuildSandbox = { network: 'bridge', cpus: 2, processes: null };

/** One build's outcome: its result or error, and every line it printed. */
export interface BuildRun {
  plan: BuildPlan;
  lines: string[];
  result?: BuiltImage;
  error?: Error;
  elapsedMs: number;
}

/** A test file's builds and containers, all labelled with one testLabel(). */
export function buildHarness(docker: Docker) {
  const labels = testLabel();
  const since = Date.now();
  const sources = sourceFactory();
  const allLines: string[] = [];
  const uncheckedTags: string[] = [];
  let n = 0;

  /** Builds `tree`; never throws for a failed build (see `error`). */
  async function build(
    tree: Tree,
    opts: Partial<BuildOptions> & {
      projectDockerfile?: string | null;
      /** The upload's format (tar.gz by default); a zip's entries carry other mtimes. */
      format?: 'tar.gz' | 'zip';
      /** The base images the planner picks from (the fixture images by default). */
      images?: BaseImages;
      /** Replaces the planner (tests of the builder's own guarantees). */
      plan?: (source: TestSource) => BuildPlan;
      /** Labels on top of the file's own (e.g. `slipway.project`). */
      extraLabels?: Record<string, string>;
      /** Labels after each FROM, on top of the file's own; `extraLabels` when left out. */
      stageLabels?: Record<string, string>;
    } = {},
  ): Promise<BuildRun> {
    const {
      projectDockerfile = null,
      plan: makePlan,
      format,
      images = FIXTURE_IMAGES,
      extraLabels,
      stageLabels,
      ...overrides
    } = opts;
    const source = await sources.make(tree, projectDockerfile, format);
    const plan = makePlan ? makePlan(source) : planBuild(source, { projectDockerfile, images });
    const lines: string[] = [];
    const started = Date.now();
    const run: BuildRun = { plan, lines, elapsedMs: 0 };
    try {
      run.result = await buildLabelledImage(docker, {
        source: source.tgz,
        plan,
        labels: { ...labels, ...extraLabels },
        stageLabels: { ...labels, ...(stageLabels ?? extraLabels) },
        tag: `slipway-test/${labels['slipway.test']}:${n++}`,
        memoryBytes: 256 * MiB,
        timeoutMs: 120_000,
        sandbox: PLAIN_SANDBOX,
        signal: new AbortController().signal,
        ...overrides,
        onLine: (line) => {
          lines.push(line);
          allLines.push(line);
          overrides.onLine?.(line);
        },
      });
    } catch (err) {
      run.error = err as Error;
    }
    run.elapsedMs = Date.now() - started;
    return run;
  }

  /**
   * Sends the tree's Dockerfile to the engine as it is: no planning, no checks, no labels. Tests of
   * the checks use it to show that an attack they refuse does work on the engine itself.
   */
  async function unchecked(tree: Tree): Promise<{ lines: string[]; tag: string; result?: BuiltImage; error?: Error }> {
    const source = await sources.make(tree);
    const plan: BuildPlan = {
      stack: 'dockerfile',
      dockerfilePath: 'Dockerfile',
      generatedDockerfile: null,
      dockerignore: null,
      checked: { images: [], bases: [] },
    };
    const tag = `slipway-test/${labels['slipway.test']}:unchecked-${n++}`;
    uncheckedTags.push(tag);
    const lines: string[] = [];
    try {
      const result = await buildImage(docker, buildContext(source.tgz, plan), {
        tag,
        dockerfilePath: 'Dockerfile',
        memoryBytes: 256 * MiB,
        timeoutMs: 60_000,
        sandbox: PLAIN_SANDBOX,
        signal: new AbortController().signal,
        onLine: (line) => {
          lines.push(line);
          allLines.push(line);
        },
      });
      return { lines, tag, result };
    } catch (err) {
      return { lines, tag, error: err as Error };
    }
  }

  /** Runs the image with `port` published on 127.0.0.1 and returns its base URL once it answers. */
  async function serve(imageId: string, port: number): Promise<{ url: string; container: Docker.Container }> {
    const container = await docker.createContainer({
      Image: imageId,
      Labels: labels,
      HostConfig: { PortBindings: { [`${port}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    await container.start();
    const info = await container.inspect();
    const hostPort = info.NetworkSettings.Ports[`${port}/tcp`]?.[0]?.HostPort;
    if (!hostPort) throw new Error(`port ${port} was not published`);
    const url = `http://127.0.0.1:${hostPort}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await fetch(url, { signal: AbortSignal.timeout(1000) });
        return { url, container };
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${url} did not answer: ${String(err)}`);
        await Bun.sleep(100);
      }
    }
  }

  /** Removes everything this harness made. */
  async function cleanup(): Promise<void> {
    // Untagged first: an unchecked build's image may carry no label, or share a base image's.
    for (const tag of uncheckedTags) {
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
    }
    await cleanupByLabel(docker, labels['slipway.test']);
    await removeStepImages(docker, allLines, since);
    sources.cleanup();
  }

  return { labels, build, unchecked, serve, cleanup };
}

/** The ids the builder announced with ` ---> Running in <id>`. */
export function announcedContainers(lines: string[]): string[] {
  return lines.map((l) => / ---> Running in ([0-9a-f]{12})$/.exec(l)?.[1]).filter((id): id is string => !!id);
}

/** The image a step produced, from the ` ---> <id>` line that follows its header. */
export function stepImage(lines: string[], step: number): string | null {
  const header = lines.findIndex((l) => l.startsWith(`Step ${step}/`));
  const next = lines.findIndex((l, i) => i > header && l.startsWith('Step '));
  const done = lines.slice(header, next === -1 ? undefined : next).map((l) => /^ ---> ([0-9a-f]{12})$/.exec(l)?.[1]);
  return done.find((id) => id !== undefined) ?? null;
}
