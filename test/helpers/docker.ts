import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';

const PING_TIMEOUT_MS = 3000;

let reachable: Promise<boolean> | undefined;

/** A dockerode client for the test engine: DOCKER_HOST through dockerode's defaults, else /var/run/docker.sock. */
export function dockerClient(): Docker {
  return process.env.DOCKER_HOST ? new Docker() : new Docker({ socketPath: '/var/run/docker.sock' });
}

/** For `describe.skipIf(!(await requireDocker()))`: true if the engine answers, else false locally, throws in CI. */
export function requireDocker(): Promise<boolean> {
  // One ping per test process, however many files ask.
  reachable ??= pingWithin(PING_TIMEOUT_MS).then(
    () => true,
    (error: unknown) => {
      const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
      if (process.env.CI === 'true') {
        // In CI a missing engine is a broken setup, never a reason to skip Docker tests.
        throw new Error(`Docker is required in CI but the engine at ${where} did not answer: ${String(error)}`);
      }
      console.warn(`Skipping Docker tests: the engine at ${where} did not answer (${String(error)})`);
      return false;
    },
  );
  return reachable;
}

/** Labels for every resource a test creates; `slipway.test` is unique per call and is what cleanupByLabel removes. */
export function testLabel(): { 'slipway.managed': 'true'; 'slipway.test': string } {
  return { 'slipway.managed': 'true', 'slipway.test': `t-${randomUUID()}` };
}

/** Force-removes the containers, then images, networks and volumes labelled `slipway.test=<id>`. */
export async function cleanupByLabel(docker: Docker, id: string): Promise<void> {
  const filters = { label: [`slipway.test=${id}`] };
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(containers.map((c) => ignoreGone(docker.getContainer(c.Id).remove({ force: true, v: true }))));
  // Newest first and one at a time: a parent image cannot be removed while a child still exists.
  // Images made within one second tie on Created, so one refused for its children (409) is tried
  // again after the others, for as long as a round removes something.
  let images = (await docker.listImages({ all: true, filters })).sort((a, b) => b.Created - a.Created);
  while (images.length > 0) {
    const left: typeof images = [];
    for (const image of images) {
      const kept = await ignoreGone(docker.getImage(image.Id).remove({ force: true })).then(
        () => false,
        (error: { statusCode?: number }) => {
          if (error.statusCode !== 409) throw error;
          return true;
        },
      );
      if (kept) left.push(image);
    }
    if (left.length === images.length) throw new Error(`cannot remove images ${left.map((i) => i.Id).join(', ')}`);
    images = left;
  }
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => ignoreGone(docker.getNetwork(n.Id).remove())));
  const { Volumes: volumes } = await docker.listVolumes({ filters });
  await Promise.all((volumes ?? []).map((v) => ignoreGone(docker.getVolume(v.Name).remove())));
}

/**
 * Removes the networks the pipeline made for these projects of a test's throwaway state: they
 * carry the project's label, not the test's, and would otherwise outlive the test.
 */
export async function removeProjectNetworks(docker: Docker, projects: string[]): Promise<void> {
  const networks = await docker.listNetworks({ filters: { label: ['slipway.project'] } });
  const ours = networks.filter((n) =>
    projects.some((p) => n.Name === `slipway-${p}` && n.Labels?.['slipway.project'] === p),
  );
  await Promise.all(ours.map((n) => ignoreGone(docker.getNetwork(n.Id).remove())));
}

// A wedged engine can accept the connection and never answer, so the ping gets its own deadline.
async function pingWithin(ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    await Promise.race([dockerClient().ping(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

// A resource that vanished meanwhile (auto-removed, or a parent image already deleted) is fine.
async function ignoreGone(removal: Promise<unknown>): Promise<void> {
  try {
    await removal;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  }
}
