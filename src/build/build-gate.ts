/**
 * Builds against sweeps of build leftovers, within one agent process (the one that runs builds).
 *
 * The last stage of a generated build carries only the agent's labels (runtime/labels.ts), so what
 * such a build leaves untagged (a failed build's last good step, holding the project's source)
 * names no project. No successful build leaves an untagged image with only those labels: its
 * steps stand under its tagged image, and its earlier stages carry the project's labels (the
 * build cache). An untagged image with the agent's labels and no project is therefore either a
 * leftover of a failed, canceled or interrupted build, or the step a running build has just
 * committed and is about to build on. A sweep removes them only while no build runs, and builds
 * wait for a sweep to end before they start: a running build's steps are never touched.
 */

/** Counts running builds and holds new ones while a sweep runs. */
export class BuildGate {
  private running = 0;
  private sweeping: Promise<unknown> | null = null;

  /** Waits for a sweep under way, then counts a build until the returned function is called. */
  async enter(): Promise<() => void> {
    while (this.sweeping) await this.sweeping.catch(() => {});
    this.running++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.running--;
    };
  }

  /** Runs `sweep` if no build is running (builds wait for it to end); null when skipped. */
  async whenIdle<T>(sweep: () => Promise<T>): Promise<T | null> {
    if (this.running > 0 || this.sweeping) return null;
    const done = sweep();
    this.sweeping = done;
    try {
      return await done;
    } finally {
      this.sweeping = null;
    }
  }

  /** How many builds run now. */
  get builds(): number {
    return this.running;
  }
}

/** The gate of this process's builds: every build the engine runs for this agent passes it. */
export const buildGate = new BuildGate();
