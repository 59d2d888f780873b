/**
 * Following the engine's pull stream: one JSON message per layer event (`Pulling fs layer`,
 * `Downloading` with bytes so far and the layer's size, `Pull complete`, …). The deployment log
 * gets each layer's state changes and its download in quarter steps, never one line per chunk;
 * the sizes the engine announces add up to the download so far, checked against the pull limit.
 */

/** One message of the engine's pull stream. */
export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The log lines and byte counts of one pull. */
export class PullProgress {
  /** The engine's error message, once it sent one. */
  error: string | null = null;
  private readonly sizes = new Map<string, number>();
  private readonly lastStatus = new Map<string, string>();
  private readonly quarter = new Map<string, number>();

  constructor(private readonly onLine: (line: string) => void) {}

  /** The total of the layer sizes announced so far: what the pull downloads at least. */
  get announcedBytes(): number {
    let sum = 0;
    for (const size of this.sizes.values()) sum += size;
    return sum;
  }

  /** Takes one message: logs what changed and counts layer sizes. */
  take(m: PullMessage): void {
    if (m.error !== undefined || m.errorDetail?.message !== undefined) {
      this.error = m.errorDetail?.message ?? m.error ?? 'unknown error';
      this.onLine(`Pull failed: ${this.error}`);
      return;
    }
    const status = m.status ?? '';
    if (!m.id) {
      if (status) this.onLine(status);
      return;
    }
    const total = m.progressDetail?.total;
    if (status === 'Downloading' && typeof total === 'number' && total > 0) {
      this.sizes.set(m.id, total);
      this.downloading(m.id, m.progressDetail?.current ?? 0, total);
      return;
    }
    if (status === 'Extracting' || status === 'Waiting' || status === 'Verifying Checksum') return;
    if (this.lastStatus.get(m.id) === status) return;
    this.lastStatus.set(m.id, status);
    this.onLine(`${m.id}: ${status}`);
  }

  private downloading(id: string, current: number, total: number): void {
    const step = Math.min(4, Math.floor((current / total) * 4));
    if ((this.quarter.get(id) ?? -1) >= step) return;
    this.quarter.set(id, step);
    this.lastStatus.set(id, 'Downloading');
    this.onLine(`${id}: Downloading ${mb(current)} of ${mb(total)}`);
  }
}
