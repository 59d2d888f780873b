import { Transform, type TransformCallback } from 'node:stream';

const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

/**
 * Takes Docker's multiplexed exec stream (non-TTY: 8-byte frame headers) and passes stdout on as
 * plain bytes, with backpressure, while keeping the last `stderrLimit` bytes of stderr for error
 * messages. `settle` runs once the input has ended; an error it returns becomes the stream's
 * error instead of a clean end (how a failed exit code reaches a consumer).
 */
export class ExecOutput extends Transform {
  /** Resolves at the first stdout byte or at a clean end; rejects if the stream fails first. */
  readonly started: Promise<void>;
  private header = Buffer.alloc(0);
  private frameType = 0;
  private frameLeft = 0;
  private stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private markStarted!: () => void;

  constructor(
    private readonly settle: () => Promise<Error | null> = async () => null,
    private readonly stderrLimit = 64 * 1024,
  ) {
    super();
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = resolve;
      this.once('error', reject);
    });
    // Nobody may be waiting on `started`; its rejection is reported through 'error' as well.
    this.started.catch(() => {});
  }

  /** The collected stderr (its tail when it was longer than the limit), trimmed. */
  stderr(): string {
    return Buffer.concat(this.stderrChunks).subarray(-this.stderrLimit).toString('utf8').trim();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.frameLeft === 0) {
        const need = HEADER_BYTES - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + need)]);
        at += Math.min(need, chunk.length - at);
        if (this.header.length < HEADER_BYTES) break;
        this.frameType = this.header[0]!;
        this.frameLeft = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameLeft, chunk.length - at);
      const payload = chunk.subarray(at, at + take);
      at += take;
      this.frameLeft -= take;
      if (this.frameType === STDOUT) {
        this.push(payload);
        this.markStarted();
      } else if (this.frameType === STDERR) this.keepStderr(payload);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.settle().then(
      (error) => {
        if (!error) this.markStarted();
        callback(error ?? undefined);
      },
      (error: Error) => callback(error),
    );
  }

  private keepStderr(payload: Buffer): void {
    this.stderrChunks.push(Buffer.from(payload));
    this.stderrBytes += payload.length;
    // Whole chunks go once the rest still holds `stderrLimit` bytes; stderr() cuts the last one.
    while (this.stderrChunks.length > 1 && this.stderrBytes - this.stderrChunks[0]!.length >= this.stderrLimit) {
      this.stderrBytes -= this.stderrChunks.shift()!.length;
    }
  }
}
