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
 * leave no trace. So on v1 each build gets a cgroup of its own below its slot (the engine makes it
 * with the first step container), whose pids.peak keeps the highest count of the whole build, and
 * the agent removes it when the build ends (the slots are handed to the agent's user for that).
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessLimit } from './sandbox.ts';

/** The engine's cgroup setup, as `docker info` reports it (CgroupDriver, CgroupVersion). */
export interface CgroupHost {
  driver: string;
  version: string;
}

/** The user (and group) the agent runs as, when that is not root. */
export interface CgroupOwner {
  uid: number;
  gid: number;
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
   * Makes the slots with their pids.max; needs root. Safe to repeat. On v1 the slots are made in
   * every hierarchy the engine will use and given to `owner`, so that an agent that is not root can
   * remove the build cgroups the engine makes below them; any a stopped agent left are removed.
   */
  prepare(owner: CgroupOwner | null = null): void {
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
    if (this.version === '1') {
      for (const slot of this.slotsInEveryHierarchy()) {
        mkdirSync(slot, { recursive: true });
        if (owner) chownSync(slot, owner.uid, owner.gid);
        for (const build of readdirIfAny(slot)) removeBuild(join(slot, build));
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

  /** Slot `n` as a ProcessLimit for one build, whose `reached` counts from now. */
  limitFor(n: number): ProcessLimit {
    if (this.version === '2') {
      const dir = this.dir(n);
      const baseline = maxEvents(dir);
      return {
        cgroupParent: `/${this.parent}/${n}`,
        limit: this.limit,
        reached: () => maxEvents(dir) > baseline,
        release() {},
      };
    }
    const build = `build-${randomBytes(6).toString('hex')}`;
    const dir = join(this.dir(n), build);
    return {
      cgroupParent: `/${this.parent}/${n}/${build}`,
      limit: this.limit,
      // Kernels before 6.1 have no pids.peak: there the step containers' own counts are all there is.
      reached: () => peakOf(dir) >= this.limit || readdirIfAny(dir).some((step) => maxEvents(join(dir, step)) > 0),
      release: () => {
        for (const slot of this.slotsInEveryHierarchy(n)) removeBuild(join(slot, build));
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

  /** The slot cgroups (all, or slot `only`) in each v1 hierarchy: the engine makes a build's cgroup in all of them. */
  private slotsInEveryHierarchy(only?: number): string[] {
    const slots = only === undefined ? Array.from({ length: this.count }, (_, n) => n) : [only];
    return readdirIfAny(this.root).flatMap((h) => slots.map((n) => join(this.root, h, this.parent, String(n))));
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

/** Removes a build's cgroup; one still busy or not ours to remove is left for the next `prepare`. */
function removeBuild(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // ENOENT: the engine never made it (no RUN step); EBUSY, EACCES: prepare sweeps it later
  }
}
