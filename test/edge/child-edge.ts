/**
 * An EdgeProxy in a child process (fixtures/edge-child.ts), so that a test can measure the edge's
 * memory apart from the upstream and the client it runs itself.
 */

/** A child edge routing web.localhost to one target. */
export interface ChildEdge {
  port: number;
  /** Resolves with the child's RSS (for "reset": after a full GC; for "peak": its highest since). */
  ask(message: 'reset' | 'peak'): Promise<number>;
  kill(): void;
}

/** Starts a child edge routing web.localhost to `target`. */
export async function childEdge(target: string): Promise<ChildEdge> {
  let answer: (m: { port?: number; rss?: number }) => void = () => {};
  const next = () => new Promise<{ port?: number; rss?: number }>((resolve) => (answer = resolve));
  const first = next();
  const child = Bun.spawn([process.execPath, `${import.meta.dir}/fixtures/edge-child.ts`, target], {
    ipc: (message) => answer(message),
    stdout: 'inherit',
    stderr: 'inherit',
  });
  const { port } = await first;
  return {
    port: port!,
    async ask(message) {
      const reply = next();
      child.send(message);
      return (await reply).rss!;
    },
    kill: () => child.kill(),
  };
}
