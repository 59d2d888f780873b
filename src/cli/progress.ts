/**
 * Upload progress: a cli-progress bar with bytes and speed when stderr is a terminal, plain
 * lines (at each quarter of a large upload) when it is not, so logs stay readable.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Io } from './io.ts';
import { formatBytes, formatDuration } from './output.ts';
import type { PackProgress } from './pack.ts';

/** Uploads smaller than this get no quarter lines when not on a terminal. */
const QUIET_BELOW_BYTES = 4 * 1024 * 1024;

/** Receives pack progress and renders it. */
export interface ProgressReporter {
  update(p: PackProgress): void;
  /** Ends the bar (or the lines) and returns how long it ran, in ms. */
  stop(): number;
}

/** A reporter for an upload of `total` content bytes. */
export function progressReporter(io: Io, total: number): ProgressReporter {
  const started = io.now();
  const speed = (sent: number) => `${formatBytes(Math.round(sent / Math.max(0.001, (io.now() - started) / 1000)))}/s`;
  if (io.stderr.isTTY) {
    const bar = new SingleBar(
      {
        stream: io.stderr,
        format: 'Uploading [{bar}] {percentage}% | {read} of {total_bytes} | {sent} sent at {speed}',
        hideCursor: true,
        barsize: 30,
        fps: 10,
      },
      Presets.shades_classic,
    );
    bar.start(Math.max(1, total), 0, {
      read: formatBytes(0),
      total_bytes: formatBytes(total),
      sent: formatBytes(0),
      speed: '-',
    });
    return {
      update: (p) =>
        bar.update(Math.min(p.read, Math.max(1, total)), {
          read: formatBytes(p.read),
          sent: formatBytes(p.sent),
          speed: speed(p.sent),
        }),
      stop: () => {
        bar.stop();
        return io.now() - started;
      },
    };
  }
  let quarter = 0;
  return {
    update(p) {
      if (total < QUIET_BELOW_BYTES) return;
      const reached = Math.floor((p.read / total) * 4);
      if (reached <= quarter || reached >= 4) return;
      quarter = reached;
      io.stderr.write(
        `Uploading: ${quarter * 25}% (${formatBytes(p.read)} of ${formatBytes(total)}, ${speed(p.sent)})\n`,
      );
    },
    stop: () => io.now() - started,
  };
}

/** The line printed once an upload is done. */
export function uploadedLine(files: number, content: number, sent: number, ms: number): string {
  const rate = ms > 0 ? `, ${formatBytes(Math.round(sent / (ms / 1000)))}/s` : '';
  return `Uploaded ${files} file${files === 1 ? '' : 's'} (${formatBytes(content)}) as ${formatBytes(sent)} of tar.gz in ${formatDuration(ms)}${rate}`;
}
