import { afterAll, describe, expect, test } from 'bun:test';
import { withLabels } from '../../src/build/context.ts';
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
