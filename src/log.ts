/** Slipway's own log: one JSON object per line on stderr, filtered by level. */

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
/** A log level name. */
export type LogLevel = keyof typeof LEVELS;

/** A leveled logger; `fields` must never carry secret values. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Writes one line (ending in a newline) to stderr, synchronously as `process.stderr.write` does
 * for a file, pipe or terminal. `console.error` rather than `process.stderr`: the stream loads
 * node:stream and node:tty, about 2.5 MiB of an edge process's RSS for its whole life. A line
 * is JSON, so it holds no format directive or control character that console.error would treat
 * differently from the bytes themselves.
 */
export function writeStderrLine(line: string): void {
  console.error(line.endsWith('\n') ? line.slice(0, -1) : line);
}

/** Makes a logger that drops lines below `level` and writes the rest to `write`. */
export function createLogger(level: LogLevel, write: (line: string) => void = writeStderrLine): Logger {
  const emit =
    (at: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[at] < LEVELS[level]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
