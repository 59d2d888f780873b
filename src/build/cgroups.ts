/**
 * Process limits for builds. The classic build API has no pids limit, but it has `cgroupparent`,
 * and a cgroup's pids.max caps every process (and thread) of the cgroups below it. Each build that
 * may run at once gets a slot cgroup of its own, `/<parent>/<n>`, so that one project's fork bomb
 * cannot starve another project's build. The slots are made with their pids.max by the privileged
 * preparation (cgroup files need root); the agent only reads them.
 *
 * This works with the engine's cgroupfs driver, cgroup v1 or v2. With the systemd driver the parent
 * has to be a systemd slice whose limit only systemd sets (TasksMax); that is not supported here,
 * and the reason says so.
 *
 * Telling that a build reached the limit: on v2 the slot's pids.events counts every failed fork
 * below it. On v1 a failure is counted only in the cgroup of the process that forked, the step
 * container's, which vanishes with the container: a fork bomb that ends its step at once would
 * leave no trace. So on v1 a build runs in a cgroup below its slot, `b<k>` (the engine makes it
 * with the first step container), whose pids.peak keeps the highest count of every build it held.
 * The next build of the slot reuses it while its peak is below the limit, so that peak reaching the
 * limit is news; one that reached it is retired and the next `b<k>` is taken. The agent (often
 * not root, and without write access to the cgroup tree) never has to remove anything: the
 * cgroups grow only with builds that reached the limit, and `prepare` removes the empty ones.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProcessLimit } from './sandbox.ts';

/** The engine's cgroup setup, as `docker info` reports it (CgroupDriver, CgroupVersion). */
export interface CgroupHost {
  driver: string;
  version: string;
}

/** Where the slots live, or why they cannot. */
export type SlotSupport = { ok: true; slots: PidsSlots } | { ok: false; reason: string };

/** The slot cgroups of one parent, on the engine's host. */
export class PidsSlots {
  constructor(
    private readonly version: '1' | '2',
    /** The cgroup mount, /sys/fs/cgroup on a real host. */
    private readonly root: string,
    /** The parent cgroup's name, e.g. `slipway-build`. */
    readonly parent: string,
    readonly count: number,
    readonly limit: number,
  ) {}

  /** The slots for `host`, or why the host cannot have them. */
  static for(host: CgroupHost, opts: { root: string; parent: string; count: number; limit: number }): SlotSupport {
    if (host.driver !== 'cgroupfs') {
      return {
        ok: false,
        reason: `the Docker engine uses the ${host.driver} cgroup driver; Slipway sets build process limits only with the cgroupfs driver`,
      };
    }
    if (host.version !== '1' && host.version !== '2') {
      return { ok: false, reason: `the Docker engine reports cgroup version "${host.version}"` };
    }
    return { ok: true, slots: new PidsSlots(host.version, opts.root, opts.parent, opts.count, opts.limit) };
  }

  /**
   * Makes the slots with their pids.max; needs root. Safe to repeat. On v1 it also removes the
   * empty build cgroups below the slots, in every hierarchy the engine made them in.
   */
  prepare(): void {
    if (this.version === '2') {
      // pids.max exists in a cgroup only when its parent delegates the pids controller to it.
      enablePids(this.root);
      mkdirSync(join(this.root, this.parent), { recursive: true });
      enablePids(join(this.root, this.parent));
    }
    for (let n = 0; n < this.count; n++) {
      mkdirSync(this.dir(n), { recursive: true });
      // The agent's own user reads the slots' counts, whatever the umask of the privileged step
      // (slipway's is 0077): the parent and each slot are made, or set, world-readable.
      chmodSync(dirname(this.dir(n)), 0o755);
      chmodSync(this.dir(n), 0o755);
      writeFileSync(join(this.dir(n), 'pids.max'), String(this.limit));
    }
    if (this.version === '1') {
      for (const slot of this.hierarchies().flatMap((h) => this.slotsIn(h))) {
        for (const build of readdirIfAny(slot)) removeUnlessBusy(join(slot, build));
      }
    }
  }

  /** What is wrong with the slots as they are, or null when every one has the limit. */
  problem(): string | null {
    for (let n = 0; n < this.count; n++) {
      const file = join(this.dir(n), 'pids.max');
      const value = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
      if (value !== String(this.limit)) {
        return value === null
          ? `the process-limit cgroup ${file} does not exist`
          : `${file} is ${value}, not ${this.limit}`;
      }
    }
    return null;
  }

  /** Slot `n` as a ProcessLimit for one build, whose `reached` tells of that build alone. */
  limitFor(n: number): ProcessLimit {
    if (this.version === '2') {
      const dir = this.dir(n);
      const baseline = maxEvents(dir);
      return { cgroupParent: `/${this.parent}/${n}`, limit: this.limit, reached: () => maxEvents(dir) > baseline };
    }
    const build = this.buildCgroup(n);
    const dir = join(this.dir(n), build);
    return {
      cgroupParent: `/${this.parent}/${n}/${build}`,
      limit: this.limit,
      // Kernels before 6.1 have no pids.peak: there the step containers' own counts are all there is.
      reached: () => peakOf(dir) >= this.limit || readdirIfAny(dir).some((step) => maxEvents(join(dir, step)) > 0),
    };
  }

  /** The first `b<k>` below slot `n` whose peak is below the limit, or the next one, which the engine makes. */
  private buildCgroup(n: number): string {
    for (let k = 0; ; k++) {
      const name = `b${k}`;
      if (peakOf(join(this.dir(n), name)) < this.limit) return name;
    }
  }

  /**
   * Removes the slots and the parent from every controller the engine created them in; for tests,
   * which make slots of their own. Only empty cgroups can be removed: call it after the builds.
   */
  remove(): void {
    for (const hierarchy of this.hierarchies()) {
      for (const slot of this.slotsIn(hierarchy)) {
        for (const build of this.version === '1' ? readdirIfAny(slot) : []) removeEmpty(join(slot, build));
        removeEmpty(slot);
      }
      removeEmpty(join(hierarchy, this.parent));
    }
  }

  private dir(n: number): string {
    return this.version === '2'
      ? join(this.root, this.parent, String(n))
      : join(this.root, 'pids', this.parent, String(n));
  }

  /** The hierarchies the slots live in: v2's one, or every v1 controller's (the engine makes a build's cgroup in each). */
  private hierarchies(): string[] {
    return this.version === '2' ? [this.root] : readdirIfAny(this.root).map((c) => join(this.root, c));
  }

  /** The slot cgroups in one hierarchy. */
  private slotsIn(hierarchy: string): string[] {
    return Array.from({ length: this.count }, (_, n) => join(hierarchy, this.parent, String(n)));
  }
}

function enablePids(cgroup: string): void {
  const control = join(cgroup, 'cgroup.subtree_control');
  if (!readFileSync(control, 'utf8').split(/\s+/).includes('pids')) writeFileSync(control, '+pids');
}

/** The highest number of processes a cgroup has had at once, 0 when it has no pids.peak (or is gone). */
function peakOf(cgroup: string): number {
  try {
    return Number(readFileSync(join(cgroup, 'pids.peak'), 'utf8'));
  } catch {
    return 0;
  }
}

/** The `max` count of a cgroup's pids.events, 0 when it has none (or is gone). */
function maxEvents(cgroup: string): number {
  try {
    return Number(/^max (\d+)$/m.exec(readFileSync(join(cgroup, 'pids.events'), 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // a step container's cgroup vanishes when the engine removes the container
  }
}

function readdirIfAny(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function removeEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Removes an empty build cgroup; one a build still uses (or not empty) stays. */
function removeUnlessBusy(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // EBUSY, ENOTEMPTY: a build runs in it
  }
}
