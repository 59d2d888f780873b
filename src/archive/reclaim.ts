/**
 * Streaming an archive allocates a buffer for every chunk read, inflated, hashed, packed or
 * deflated: for a 1 GiB upload, gigabytes of memory that die young, outside the JavaScript heap.
 * Bun frees them only when its collector runs, which a large agent heap makes rare, so the
 * agent's RSS grew by 100 MiB and more while an upload streamed through (measured with
 * scripts/bench-upload.sh). A Reclaimer runs a full collection each time another `everyBytes`
 * have gone through: about 15 ms per collection on a heap the agent's size, so about 1 ms per MiB,
 * for a flat RSS.
 */
export class Reclaimer {
  private since = 0;

  constructor(private readonly everyBytes = RECLAIM_EVERY_BYTES) {}

  /** Counts `bytes` more processed; collects once another `everyBytes` have accumulated. */
  add(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    Bun.gc(true);
  }
}

/** How much goes through between collections: bounds the garbage an upload can pile up. */
export const RECLAIM_EVERY_BYTES = 16 * 1024 * 1024;
