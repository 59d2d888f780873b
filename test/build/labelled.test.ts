import { afterAll, describe, expect, test } from 'bun:test';
import { withLabels, withLabelsBeforeSource } from '../../src/build/context.ts';
import {
  bunDockerfile,
  goDockerfile,
  nodeDockerfile,
  pythonDockerfile,
  staticDockerfile,
} from '../../src/build/dockerfiles.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness } from './harness.ts';
import { checkDockerfile } from '../../src/build/dockerfile-check.ts';
import type { BuildPlan } from '../../src/build/plan.ts';

const docker = dockerClient();
const labels = { 'slipway.managed': 'true', 'slipway.project': 'web' };

describe('withLabels', () => {
  test('appends one LABEL instruction on a line of its own', () => {
    expect(withLabels('FROM scratch\nCOPY . /\n', labels)).toBe(
      'FROM scratch\nCOPY . /\n\nLABEL slipway.managed="true" slipway.project="web"\n',
    );
    expect(withLabels('FROM scratch', labels)).toBe(
      'FROM scratch\n\nLABEL slipway.managed="true" slipway.project="web"\n',
    );
  });

  test('drops a line continuation at the end of the file, which would swallow the label', () => {
    expect(withLabels('FROM scratch\nCMD ["a"] \\\n', labels)).toBe(
      'FROM scratch\nCMD ["a"]\n\nLABEL slipway.managed="true" slipway.project="web"\n',
    );
    expect(withLabels('FROM scratch\nCMD ["a"] \\\n\\\n  \n', labels)).toStartWith('FROM scratch\nCMD ["a"]\n\nLABEL');
  });

  test('honours the escape directive', () => {
    const backtick = '# escape=`\nFROM scratch\nCMD ["a"] `\n';
    expect(withLabels(backtick, labels)).toBe(
      '# escape=`\nFROM scratch\nCMD ["a"]\n\nLABEL slipway.managed="true" slipway.project="web"\n',
    );
    // With the backtick as escape, a trailing backslash is an ordinary character.
    expect(withLabels('# escape=`\nFROM scratch\nRUN echo \\\n', labels)).toStartWith(
      '# escape=`\nFROM scratch\nRUN echo \\\n\nLABEL',
    );
  });

  test('leaves a Dockerfile alone when there are no labels', () => {
    expect(withLabels('FROM scratch \\\n', {})).toBe('FROM scratch \\\n');
  });
});

describe('withLabelsBeforeSource', () => {
  const LABEL = 'LABEL slipway.managed="true" slipway.project="web"';
  /** The instructions of the last stage, from its FROM on. */
  const lastStage = (dockerfile: string) => {
    const lines = dockerfile.split('\n');
    return lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));
  };

  test.each([
    ['static', staticDockerfile('base'), 'COPY . /www'],
    ['node', nodeDockerfile('base', 'npm-ci', ['node', 'server.js']), 'COPY . .'],
    ['node without dependencies', nodeDockerfile('base', null, ['node', 'server.js']), 'COPY . .'],
    ['bun', bunDockerfile('base', ['bun.lock'], ['bun', 'run', 'start']), 'COPY . .'],
    ['python (requirements.txt)', pythonDockerfile('base', 'requirements.txt', ['python', 'app.py']), 'COPY . .'],
    ['python (pyproject.toml)', pythonDockerfile('base', 'pyproject.toml', ['python', 'app.py']), 'COPY . .'],
    ['go', goDockerfile('build', 'run', true), 'COPY --from=build /out/app /app'],
  ])(
    'puts the labels of a generated %s Dockerfile in its last stage, just before the source comes in',
    (_, dockerfile, copy) => {
      const labelled = withLabelsBeforeSource(dockerfile, labels);
      const stage = lastStage(labelled);
      expect(stage.indexOf(LABEL)).toBeGreaterThan(0);
      expect(stage[stage.indexOf(LABEL) + 1]).toBe(copy);
      // Nothing else changes: without the label line it is the generated Dockerfile.
      expect(labelled.split('\n').filter((l) => l !== LABEL)).toEqual(dockerfile.split('\n'));
    },
  );

  test('keeps the install steps before the labels, so their cache does not depend on the project', () => {
    const labelled = withLabelsBeforeSource(nodeDockerfile('base', 'npm-ci', ['node', 'server.js']), labels).split(
      '\n',
    );
    expect(labelled.indexOf(LABEL)).toBeGreaterThan(labelled.indexOf('RUN npm ci --omit=dev'));
  });

  test('appends the labels when no line copies the source', () => {
    expect(withLabelsBeforeSource('FROM scratch\nCMD ["a"]\n', labels)).toBe(
      withLabels('FROM scratch\nCMD ["a"]\n', labels),
    );
  });
});

describe.skipIf(!(await requireDocker()))('images built the way production builds them', () => {
  const harness = buildHarness(docker);
  afterAll(() => harness.cleanup());

  async function labelsOf(imageId: string): Promise<Record<string, string>> {
    return (await docker.getImage(imageId).inspect()).Config.Labels ?? {};
  }

  test('a Dockerfile ending in a line continuation still yields a labelled image that runs its command', async () => {
    const run = await harness.build({
      Dockerfile:
        'FROM slipway-fixture/static:latest\nEXPOSE 8080\nCOPY index.html /www/\nCMD ["httpd", "-f", "-p", "8080", \\\n  "-h", "/www"] \\\n',
      'index.html': 'continued',
    });
    expect(run.error).toBeUndefined();
    expect(await labelsOf(run.result!.imageId)).toMatchObject(harness.labels);
    const { url } = await harness.serve(run.result!.imageId, 8080);
    expect(await (await fetch(url)).text()).toBe('continued');
  }, 60_000);

  test("a generated build takes its labels from the engine's cache from the project's second build on", async () => {
    const first = await harness.build({ 'index.html': 'first' });
    const second = await harness.build({ 'index.html': 'second' });
    for (const run of [first, second]) {
      expect(run.error).toBeUndefined();
      expect(await labelsOf(run.result!.imageId)).toMatchObject(harness.labels);
    }
    const afterLabel = (lines: string[]) => lines[lines.findIndex((l) => / : LABEL /.test(l)) + 1];
    expect(afterLabel(first.lines)).not.toContain('Using cache');
    expect(afterLabel(second.lines)).toContain('Using cache');
    // The upload still makes its own image.
    expect(second.result!.imageId).not.toBe(first.result!.imageId);
    const { url } = await harness.serve(second.result!.imageId, 8080);
    expect(await (await fetch(url)).text()).toBe('second');
  }, 60_000);

  // The planner refuses Dockerfiles it cannot read whole to check them (test/build/plan.test.ts);
  // the builder's guarantee holds on its own: labels it could not append are stamped on.
  const unreadable = (text: string) => (): BuildPlan => ({
    stack: 'dockerfile',
    dockerfilePath: 'Dockerfile',
    generatedDockerfile: null,
    dockerignore: null,
    checked: checkDockerfile(text, 'Dockerfile'),
  });

  test('a Dockerfile over 1 MiB gets its labels in a step of their own', async () => {
    const text = `FROM slipway-fixture/static:latest\n${`# ${'x'.repeat(1000)}\n`.repeat(1100)}`;
    const run = await harness.build({ Dockerfile: text }, { plan: unreadable(text) });
    expect(run.error).toBeUndefined();
    expect(run.lines).toContain('Adding Slipway labels in a separate step (the Dockerfile could not take them)');
    expect(await labelsOf(run.result!.imageId)).toMatchObject(harness.labels);
  }, 60_000);

  test('a symlinked Dockerfile gets its labels in a step of their own', async () => {
    const text = 'FROM slipway-fixture/static:latest\nCMD ["true"]\n';
    const run = await harness.build(
      { 'build/Dockerfile.real': text, Dockerfile: { symlink: 'build/Dockerfile.real' } },
      { plan: unreadable(text) },
    );
    expect(run.error).toBeUndefined();
    expect(run.lines).toContain('Adding Slipway labels in a separate step (the Dockerfile could not take them)');
    expect(await labelsOf(run.result!.imageId)).toMatchObject(harness.labels);
  }, 60_000);
});
