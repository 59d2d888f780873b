import { afterAll, describe, expect, test } from 'bun:test';
import { BuildError } from '../../src/deployments/failures.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { announcedContainers, buildHarness } from './harness.ts';

const docker = dockerClient();

describe.skipIf(!(await requireDocker()))('buildImage on the engine', () => {
  const harness = buildHarness(docker);
  afterAll(() => harness.cleanup());

  test('builds a static site whose container serves index.html on $PORT', async () => {
    const run = await harness.build({
      'index.html': '<h1>Hello from Slipway</h1>',
      'about/index.html': 'about us',
      '.dockerignore': 'drafts\n',
      'drafts/plan.html': 'not public',
    });
    expect(run.error).toBeUndefined();
    expect(run.plan.stack).toBe('static');
    expect(run.result!.exposedPort).toBe(8080);
    expect(run.result!.imageId).toStartWith('sha256:');
    const { url, container } = await harness.serve(run.result!.imageId, 8080);
    expect(await (await fetch(`${url}/`)).text()).toBe('<h1>Hello from Slipway</h1>');
    expect(await (await fetch(`${url}/about/`)).text()).toBe('about us');
    // Neither the generated Dockerfile nor ignored files reach the image.
    expect((await fetch(`${url}/.slipway/Dockerfile`)).status).toBe(404);
    expect((await fetch(`${url}/drafts/plan.html`)).status).toBe(404);
    // SIGTERM stops it at once rather than after docker stop's grace period.
    const stopping = Date.now();
    await container.stop({ t: 10 });
    expect(Date.now() - stopping).toBeLessThan(3000);
    console.log(`static site built in ${run.result!.durationMs} ms`);
  }, 60_000);

  test('builds a dependency-free Node app and runs its start script', async () => {
    const server = [
      "const http = require('node:http');",
      'http.createServer((req, res) => res.end(`node ${process.env.NODE_ENV} on ${process.env.PORT}`)).listen(process.env.PORT);',
      "process.on('SIGTERM', () => process.exit(0));",
    ].join('\n');
    const run = await harness.build({
      'package.json': JSON.stringify({
        name: 'app',
        scripts: { start: 'node server.js' },
        devDependencies: { typescript: '5' },
      }),
      'server.js': server,
    });
    expect(run.error).toBeUndefined();
    expect(run.plan.stack).toBe('node');
    expect(run.result!.exposedPort).toBe(8080);
    const { url, container } = await harness.serve(run.result!.imageId, 8080);
    expect(await (await fetch(url)).text()).toBe('node production on 8080');
    // `exec` made node PID 1, so its SIGTERM handler runs and the stop is immediate.
    const stopping = Date.now();
    await container.stop({ t: 10 });
    expect(Date.now() - stopping).toBeLessThan(3000);
    console.log(`node app built in ${run.result!.durationMs} ms`);
  }, 60_000);

  test("uses the project's own Dockerfile and reports its first EXPOSE port", async () => {
    const run = await harness.build({
      Dockerfile: 'FROM slipway-fixture/static:latest\nCOPY index.html /www/\nEXPOSE 9000 9100\n',
      'index.html': 'own',
      'package.json': '{}',
    });
    expect(run.error).toBeUndefined();
    expect(run.plan.stack).toBe('dockerfile');
    expect(run.result!.exposedPort).toBe(9000);
    expect(run.lines).toContain('Step 1/5 : FROM slipway-fixture/static:latest');
    const image = await docker.getImage(run.result!.imageId).inspect();
    expect(image.Config.Labels).toMatchObject(harness.labels);
    console.log(`own Dockerfile built in ${run.result!.durationMs} ms`);
  }, 60_000);

  // The engine counts the LABEL steps added for the labels: after the FROM and at the end.
  test('names the step whose RUN failed, and leaves no container behind', async () => {
    const run = await harness.build({
      Dockerfile: 'FROM slipway-fixture/static:latest\nRUN echo about to fail && exit 3\nCMD ["true"]\n',
    });
    expect(run.error).toBeInstanceOf(BuildError);
    expect(run.error!.message).toBe(
      "Dockerfile step 3/5 failed: The command '/bin/sh -c echo about to fail && exit 3' returned a non-zero code: 3",
    );
    expect((run.error as BuildError).canceled).toBe(false);
    expect(run.lines).toContain('about to fail');
    for (const id of announcedContainers(run.lines)) {
      await expect(docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  }, 60_000);

  test('reports a Dockerfile the engine cannot parse', async () => {
    const run = await harness.build({ Dockerfile: 'FROM slipway-fixture/static:latest\nFETCH http://example.com\n' });
    expect(run.error).toBeInstanceOf(BuildError);
    expect(run.error!.message).toMatch(/^Build failed: .*unknown instruction: FETCH/i);
  }, 60_000);

  test('reports a COPY of a file the context lacks', async () => {
    const run = await harness.build({ Dockerfile: 'FROM slipway-fixture/static:latest\nCOPY missing.txt /www/\n' });
    expect(run.error!.message).toStartWith('Dockerfile step 3/4 failed: COPY failed: file not found in build context');
  }, 60_000);
});
