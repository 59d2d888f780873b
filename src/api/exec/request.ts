import { BadRequestError, ForbiddenError, ValidationError } from '../../errors.ts';
import type { ExecRequest } from '../../exec/docker-exec.ts';

/** The most arguments, and the longest argument, a command may have. */
const MAX_ARGS = 256;
const MAX_ARG_LENGTH = 8192;

/** The command when none is given: the image's POSIX shell, as `fly ssh console` and `heroku run bash` do. */
export const DEFAULT_COMMAND = ['/bin/sh'];

/**
 * The command of an exec request, one argument per `cmd` parameter, in order. Read from the URL
 * itself: the query parser would split values at commas, and an argument may hold one.
 */
export function commandOf(url: string): string[] {
  const args = new URL(url).searchParams.getAll('cmd');
  if (args.length === 0) return [...DEFAULT_COMMAND];
  const issues: { path: string; message: string }[] = [];
  if (args.length > MAX_ARGS) issues.push({ path: '/cmd', message: `At most ${MAX_ARGS} arguments` });
  args.forEach((a, i) => {
    if (i === 0 && a === '') issues.push({ path: '/cmd/0', message: 'The program name is empty' });
    if (a.length > MAX_ARG_LENGTH)
      issues.push({ path: `/cmd/${i}`, message: `Longer than ${MAX_ARG_LENGTH} characters` });
    if (a.includes('\0')) issues.push({ path: `/cmd/${i}`, message: 'Contains a NUL character' });
  });
  if (issues.length > 0) throw new ValidationError('Invalid query parameters', issues);
  return args;
}

/** The exec request from the query: command, TTY and initial terminal size. */
export function execRequestOf(
  url: string,
  query: { tty?: boolean; cols?: number; rows?: number; instance?: string },
): ExecRequest & { instance?: string } {
  return { cmd: commandOf(url), tty: query.tty ?? false, cols: query.cols, rows: query.rows, instance: query.instance };
}

/** Refuses a request that is not a WebSocket handshake; every other check passed when this is the answer. */
export function checkUpgrade(headers: Headers): void {
  if ((headers.get('upgrade') ?? '').toLowerCase() !== 'websocket')
    throw new BadRequestError('Expected a WebSocket handshake (Upgrade: websocket)');
}

/**
 * Refuses a handshake from a web page of another origin. A browser sends the
 * page's `Origin` with every WebSocket handshake, and cannot forge it: only the API's own origin
 * (the host it was reached at) may open a session, so no other site can use a visitor's ambient
 * credentials. Clients that are not browsers (the CLI, curl, websocat) send no Origin.
 */
export function checkOrigin(headers: Headers): void {
  const origin = headers.get('origin');
  if (origin === null) return;
  let host: string | null = null;
  try {
    host = new URL(origin).host;
  } catch {}
  if (host === null || host.toLowerCase() !== (headers.get('host') ?? '').toLowerCase())
    throw new ForbiddenError(`Cannot open an exec session from the web page at ${JSON.stringify(origin)}`);
}
