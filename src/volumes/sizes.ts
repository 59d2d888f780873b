import type Docker from 'dockerode';
import type { Logger } from '../log.ts';

/** How old a measurement may be before a read asks for a new one. */
const STALE_MS = 60_000;
/** How long a project's list of volume names is reused by projectTotal. */
const NAMES_TTL_MS = 1000;

/** One volume's size as last measured. */
export interface MeasuredSize {
  bytes: number;
  measuredAt: string;
}

/**
 * What the engine's volumes hold, from `docker system df` (the engine walks each local volume),
 * cached. Reads never wait: they return the last measurement, or null before the first, and a read
 * of a stale cache starts one background measurement (never two at once). Nobody reading costs
 * nothing; a project view read at most once a minute costs one `df`.
 */
export class VolumeSizes {
  private sizes = new Map<string, number>();
  private measuredAt: number | null = null;
  /** When the last measurement started, successful or not: a failing engine is asked once per period too. */
  private attemptedAt = 0;
  private running: Promise<void> | null = null;
  /** Each project's Docker volume names, as last read, and when. */
  private readonly namesOf = new Map<string, { at: number; names: string[] }>();

  constructor(
    private readonly docker: Docker,
    private readonly log: Logger,
    private readonly staleMs = STALE_MS,
  ) {}

  /** The last measured size of a Docker volume, or null (never measured, or unknown to the engine). */
  get(dockerName: string): MeasuredSize | null {
    if (Date.now() - this.attemptedAt > this.staleMs) void this.refresh();
    const bytes = this.sizes.get(dockerName);
    return bytes === undefined || this.measuredAt === null
      ? null
      : { bytes, measuredAt: new Date(this.measuredAt).toISOString() };
  }

  /**
   * What a project's volumes hold in all, for the project view: `names` (a SQLite read) is asked
   * at most once a second per project, since the view is on the API's hottest path and a size that
   * is a minute old anyway does not need the list of volumes fresher than that.
   */
  projectTotal(projectId: string, names: (projectId: string) => string[]): number | null {
    const now = Date.now();
    let known = this.namesOf.get(projectId);
    if (!known || now - known.at > NAMES_TTL_MS) {
      known = { at: now, names: names(projectId) };
      this.namesOf.set(projectId, known);
    }
    return this.total(known.names);
  }

  /** What the named volumes hold in all: 0 for none, null while any of them is unmeasured. */
  total(dockerNames: string[]): number | null {
    let total = 0;
    for (const name of dockerNames) {
      const size = this.get(name);
      if (!size) return null;
      total += size.bytes;
    }
    return total;
  }

  /** Measures now (joining a measurement in progress); resolves when it is done, never rejects. */
  refresh(): Promise<void> {
    this.running ??= this.measure().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async measure(): Promise<void> {
    this.attemptedAt = Date.now();
    try {
      const df = (await this.docker.df()) as { Volumes?: { Name: string; UsageData?: { Size: number } | null }[] };
      const sizes = new Map<string, number>();
      for (const v of df.Volumes ?? []) {
        const size = v.UsageData?.Size ?? -1;
        if (size >= 0) sizes.set(v.Name, size);
      }
      this.sizes = sizes;
      this.measuredAt = Date.now();
    } catch (err) {
      this.log.warn('measuring volume sizes failed', { error: String(err) });
    }
  }
}
