/**
 * Network holders made ahead (holder.ts): a deployment asks for them as soon as its project's
 * network exists, while its image builds, and its release takes them when it starts its
 * instances. They wait by project, network and port; a release that finds none for its port
 * (the port turned out other than expected, or making them failed) starts its containers on the
 * network itself, as without holders.
 */
import type Docker from 'dockerode';
import { ensureHolderImage, type HolderSpec, removeHolders, startHolder } from './holder.ts';

const keyOf = (s: HolderSpec) => `${s.project}\n${s.network}\n${s.port}`;

/** The holders waiting for one project's next instances. */
export class HolderPool {
  /** By key: holders being made or made, in order; null where making one failed. */
  private readonly waiting = new Map<string, Promise<string | null>[]>();
  /** The ids of the holders made and not taken. */
  private readonly made = new Set<string>();
  private image: Promise<boolean> | null = null;

  constructor(private readonly docker: Docker) {}

  /**
   * Makes holders for `spec` until `count` wait for it. Those waiting for another network or port
   * of the same project are removed: the project's instances no longer start that way.
   */
  prepare(spec: HolderSpec, count: number): void {
    const key = keyOf(spec);
    for (const other of [...this.waiting.keys()]) {
      if (other !== key && other.startsWith(`${spec.project}\n`)) void this.dropKey(other);
    }
    const queue = this.waiting.get(key) ?? [];
    this.waiting.set(key, queue);
    while (queue.length < count) queue.push(this.make(spec));
  }

  /** A holder made for `spec` (waiting for one still being made), or null when none is. */
  async take(spec: HolderSpec): Promise<string | null> {
    const queue = this.waiting.get(keyOf(spec));
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(keyOf(spec));
    const id = (await next) ?? null;
    if (id !== null) this.made.delete(id);
    return id;
  }

  /** Removes the holders waiting for the project's instances (its network is about to go). */
  async drop(project: string): Promise<void> {
    const keys = [...this.waiting.keys()].filter((k) => k.startsWith(`${project}\n`));
    await Promise.all(keys.map((k) => this.dropKey(k)));
  }

  /** Whether `id` is a holder made and waiting here (not an orphan to remove). */
  has(id: string): boolean {
    return this.made.has(id);
  }

  private make(spec: HolderSpec): Promise<string | null> {
    this.image ??= ensureHolderImage(this.docker).catch(() => {
      this.image = null; // asked again next time
      return false;
    });
    return this.image
      .then((ok) => (ok ? startHolder(this.docker, spec) : null))
      .then(
        (id) => {
          if (id !== null) this.made.add(id);
          return id;
        },
        () => null,
      );
  }

  private async dropKey(key: string): Promise<void> {
    const queue = this.waiting.get(key) ?? [];
    this.waiting.delete(key);
    const ids = (await Promise.all(queue)).filter((id): id is string => id !== null);
    for (const id of ids) this.made.delete(id);
    await removeHolders(this.docker, ids).catch(() => {});
  }
}
