import type Docker from 'dockerode';
import { PassThrough, type Readable } from 'node:stream';

/** One runtime log line of an app instance. */
export interface LogEntry {
  time: string;
  instance: string;
  stream: 'stdout' | 'stderr';
  line: string;
}

/** A container to read logs from, and the short name shown as `instance`. */
export interface LogSource {
  containerId: string;
  instance: string;
}

/**
 * Reads the recent logs of containers (Docker's json-file driver, timestamps on), merged in time
 * order. `since` is a Unix time in seconds.
 */
export async function recentLogs(
  docker: Docker,
  sources: LogSource[],
  opts: { tail: number; since?: number },
): Promise<LogEntry[]> {
  const perSource = await Promise.all(
    sources.map(async (s) => {
      const raw = (await docker.getContainer(s.containerId).logs({
        stdout: true,
        stderr: true,
        timestamps: true,
        follow: false,
        tail: opts.tail,
        ...(opts.since ? { since: opts.since } : {}),
      })) as unknown as Buffer;
      return parseFrames(raw, s.instance);
    }),
  );
  return perSource
    .flat()
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
    .slice(-opts.tail);
}

/** Follows one container's logs from `since` (Unix seconds); calls `onEntry` per line until `signal` aborts or the container stops. */
export async function followLogs(
  docker: Docker,
  source: LogSource,
  since: number,
  onEntry: (e: LogEntry) => void,
  signal: AbortSignal,
): Promise<void> {
  const stream = (await docker.getContainer(source.containerId).logs({
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: true,
    since,
  })) as unknown as Readable;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  const done = new Promise<void>((resolve) => {
    stream.once('end', resolve);
    stream.once('close', resolve);
    stream.once('error', () => resolve());
  });
  const abort = () => stream.destroy();
  signal.addEventListener('abort', abort, { once: true });
  splitLines(stdout, (l) => onEntry(parseLine(l, source.instance, 'stdout')));
  splitLines(stderr, (l) => onEntry(parseLine(l, source.instance, 'stderr')));
  await done;
  signal.removeEventListener('abort', abort);
}

function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) onLine(p);
  });
  stream.on('end', () => rest && onLine(rest));
}

/** Splits Docker's multiplexed (8-byte header) log buffer into entries. */
function parseFrames(buf: Buffer, instance: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const kind = buf[i] === 2 ? 'stderr' : 'stdout';
    const size = buf.readUInt32BE(i + 4);
    for (const line of buf
      .subarray(i + 8, i + 8 + size)
      .toString('utf8')
      .split('\n')) {
      if (line !== '') out.push(parseLine(line, instance, kind));
    }
    i += 8 + size;
  }
  return out;
}

function parseLine(raw: string, instance: string, stream: 'stdout' | 'stderr'): LogEntry {
  const space = raw.indexOf(' ');
  const stamp = space > 0 ? raw.slice(0, space) : '';
  const time = Number.isNaN(Date.parse(stamp)) ? new Date().toISOString() : new Date(Date.parse(stamp)).toISOString();
  return {
    time,
    instance,
    stream,
    line: (Number.isNaN(Date.parse(stamp)) ? raw : raw.slice(space + 1)).replace(/\r$/, ''),
  };
}
