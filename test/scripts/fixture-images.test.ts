import { afterAll, describe, expect, test } from 'bun:test';
import { pack } from 'tar-stream';
import { cleanupByLabel, dockerClient, requireDocker, testLabel } from '../helpers/docker.ts';

const STATIC_IMAGE = 'slipway-fixture/static:latest';
const NODE_IMAGE = 'slipway-fixture/node:latest';

const hasDocker = await requireDocker();
const docker = dockerClient();
const labels = testLabel();

/** An in-memory tar holding the given files, for putArchive. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The stdout of a non-TTY container, taken out of Docker's multiplexed log frames. */
function stdoutOf(frames: Buffer): string {
  let out = '';
  for (let at = 0; at + 8 <= frames.length; ) {
    const size = frames.readUInt32BE(at + 4);
    if (frames[at] === 1) out += frames.subarray(at + 8, at + 8 + size).toString();
    at += 8 + size;
  }
  return out;
}

/** Polls until the server answers; the container is started but httpd may not be listening yet. */
async function fetchWhenUp(url: string, timeoutMs = 5000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await Bun.sleep(100);
    }
  }
}

afterAll(async () => {
  if (hasDocker) await cleanupByLabel(docker, labels['slipway.test']);
});

describe.skipIf(!hasDocker)('fixture images', () => {
  test('both fixture images exist and are labelled as fixtures', async () => {
    for (const name of [STATIC_IMAGE, NODE_IMAGE]) {
      const image = await docker.getImage(name).inspect();
      expect(image.Config.Labels?.['slipway.fixture']).toBe('true');
    }
  });

  test('the static image serves /www over HTTP on $PORT', async () => {
    const container = await docker.createContainer({
      Image: STATIC_IMAGE,
      Env: ['PORT=8080'],
      Labels: labels,
      ExposedPorts: { '8080/tcp': {} },
      HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    const page = `<h1>fixture ${labels['slipway.test']}</h1>\n`;
    await container.putArchive(await tarOf({ 'www/index.html': page }), { path: '/' });
    await container.start();

    const info = await container.inspect();
    const hostPort = info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
    expect(hostPort).toBeTruthy();
    const response = await fetchWhenUp(`http://127.0.0.1:${hostPort}/index.html`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(page);
  });

  test('the node image runs a script with node', async () => {
    const container = await docker.createContainer({
      Image: NODE_IMAGE,
      Cmd: ['node', '-e', 'console.log(6*7)'],
      Labels: labels,
    });
    await container.start();
    const { StatusCode } = await container.wait();
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });

    expect(StatusCode).toBe(0);
    expect(stdoutOf(logs).trim()).toBe('42');
  });
});
