import type Docker from 'dockerode';

/** Makes sure `image` is present locally, pulling it when it is not. */
export async function ensureImage(docker: Docker, image: string, signal: AbortSignal): Promise<void> {
  try {
    await docker.getImage(image).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  try {
    const progress = (await docker.pull(image, { abortSignal: signal })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      // Errors after the pull started arrive as progress events, which followProgress turns into `err`.
      docker.modem.followProgress(progress, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`Cannot pull the database image ${image}: ${(err as Error).message}`);
  }
}
