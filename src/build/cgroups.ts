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
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

  /** Makes the slots with their pids.max; needs root. Safe to repeat. */
  prepare(): void {
    if (this.version === '2') {
      // pids.max exists in a cgroup only when its parent delegates the pids controller to it.
      enablePids(this.root);
      mkdirSync(join(this.root, this.parent), { recursive: true });
      enablePids(join(this.root, this.parent));
    }
    for (let n = 0; n < this.count; n++) {
      mkdirSync(this.dir(n), { recursive: true });
      writeFileSync(join(this.dir(n), 'pids.max'), String(this.limit));
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

  /** Slot `n` as a ProcessLimit whose `reached` counts from now. */
  limitFor(n: number): ProcessLimit {
    const dir = this.dir(n);
    const baseline = this.failedForks(dir);
    return {
      cgroupParent: `/${this.parent}/${n}`,
      limit: this.limit,
      reached: () => {
        for (const [cgroup, count] of this.failedForks(dir)) if (count > (baseline.get(cgroup) ?? 0)) return true;
        return false;
      },
    };
  }

  /**
   * Removes the slots and the parent from every controller the engine created them in; for tests,
   * which make slots of their own. Only empty cgroups can be removed: call it after the builds.
   */
  remove(): void {
    const hierarchies = this.version === '2' ? [this.root] : readdirSync(this.root).map((c) => join(this.root, c));
    for (const hierarchy of hierarchies) {
      for (let n = 0; n < this.count; n++) removeEmpty(join(hierarchy, this.parent, String(n)));
      removeEmpty(join(hierarchy, this.parent));
    }
  }

  private dir(n: number): string {
    return this.version === '2'
      ? join(this.root, this.parent, String(n))
      : join(this.root, 'pids', this.parent, String(n));
  }

  // Failed forks per cgroup: the slot's own count and, on v1 (where a failure is counted only in
  // the cgroup of the process that forked), each step container's below it.
  private failedForks(dir: string): Map<string, number> {
    const counts = new Map<string, number>([[dir, maxEvents(dir)]]);
    if (this.version === '1') {
      for (const entry of readdirIfAny(dir)) counts.set(join(dir, entry), maxEvents(join(dir, entry)));
    }
    return counts;
  }
}

function enablePids(cgroup: string): void {
  const control = join(cgroup, 'cgroup.subtree_control');
  if (!readFileSync(control, 'utf8').split(/\s+/).includes('pids')) writeFileSync(control, '+pids');
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
