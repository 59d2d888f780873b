import type Docker from 'dockerode';

/**
 * Tags a fixture image on the manager under the cluster registry and pushes it there; returns the
 * new reference. Services then start at once, as on a real cluster: a task of an image only present
 * locally first waits for a pull from Docker Hub to fail (no registry is reachable here).
 */
export async function pushToClusterRegistry(docker: Docker, image: string, registry: string): Promise<string> {
  const [repo, tag = 'latest'] = image.split(':') as [string, string?];
  await docker.getImage(image).tag({ repo: `${registry}/${repo}`, tag });
  const stream = (await docker
    .getImage(`${registry}/${repo}`)
    .push({ tag } as never)) as unknown as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, events: { error?: string }[]) => {
      const failed = events?.find((e) => e.error);
      if (err || failed) reject(err ?? new Error(failed?.error));
      else resolve();
    }),
  );
  return `${registry}/${repo}:${tag}`;
}
