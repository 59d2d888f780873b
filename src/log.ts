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

/** Makes a logger that drops lines below `level` and writes the rest to `write`. */
export function createLogger(level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const emit =
    (at: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      if (LEVELS[at] < LEVELS[level]) return;
      write(`${JSON.stringify({ time: new Date().toISOString(), level: at, msg, ...fields })}\n`);
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
