/** The client side of the exec WebSocket (see src/exec/protocol.ts), wired to this process's terminal. */
import { seg } from './client.ts';
import type { Ctx } from './context.ts';
import { EXIT, InterruptedError, UnreachableError } from './errors.ts';
import type { Io } from './io.ts';
import { VERSION } from '../version.ts';

type Control = { type: 'started' } | { type: 'exit'; code: number } | { type: 'error'; code: string; message: string };

/** The exec URL with one `cmd` per argument (an argument may hold commas or spaces). */
export function execUrl(base: string, project: string, cmd: string[], tty: boolean, io: Io): URL {
  const url = new URL(`${base}/v1/projects/${seg(project)}/exec`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  for (const arg of cmd) url.searchParams.append('cmd', arg);
  if (tty) {
    url.searchParams.set('tty', 'true');
    const { cols, rows } = sizeOf(io);
    if (cols && rows) {
      url.searchParams.set('cols', String(cols));
      url.searchParams.set('rows', String(rows));
    }
  }
  return url;
}

/** Runs the session to its end; resolves the command's exit code. */
export async function execSession(
  ctx: Ctx,
  project: string,
  cmd: string[],
  opts: { instance?: string; tty?: boolean },
): Promise<number> {
  const { io } = ctx;
  const client = ctx.client();
  const tty = opts.tty ?? (io.stdin.isTTY === true && io.stdout.isTTY === true);
  const url = execUrl(client.url, project, cmd, tty, io);
  if (opts.instance) url.searchParams.set('instance', opts.instance);
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${client.credentials.token}`, 'user-agent': `slipway-cli/${VERSION}` },
  } as never);
  ws.binaryType = 'arraybuffer';
  const ended = new Promise<number>((resolve, reject) => {
    let result: number | null = null;
    let failure: Error | null = null;
    let opened = false;
    let stop: () => void = () => {};
    ws.onopen = () => {
      opened = true;
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') return writeOutput(io, new Uint8Array(e.data as ArrayBuffer));
      const msg = JSON.parse(e.data) as Control;
      if (msg.type === 'started') stop = attachTerminal(io, ws, tty);
      else if (msg.type === 'exit') result = msg.code;
      else failure = new UnreachableError(`The exec session ended: ${msg.message}`);
    };
    ws.onclose = () => {
      stop();
      if (failure) reject(failure);
      else if (result !== null) resolve(result);
      else if (!opened) reject(null);
      else reject(new InterruptedError('The exec session was closed before the command exited'));
    };
    const offInterrupt = io.onInterrupt(() => {
      // On a terminal Ctrl-C is a byte for the remote side (raw mode); this is the piped case.
      offInterrupt();
      ws.close();
      result = EXIT.interrupted;
    });
  });
  try {
    return await ended;
  } catch (err) {
    if (err !== null) throw err;
    return diagnose(ctx, url);
  }
}

/** After a refused handshake, asks the same thing as a plain request, whose error envelope says why. */
async function diagnose(ctx: Ctx, url: URL): Promise<never> {
  const path = `${url.pathname}${url.search}`;
  const res = await ctx
    .client()
    .request('GET', path)
    .catch((err: Error & { status?: number }) => {
      if (err.status !== 400) throw err;
      return null;
    });
  await res?.body?.cancel();
  throw new UnreachableError(`Cannot open an exec session at ${ctx.client().url}: the WebSocket handshake failed`, [
    'A proxy between here and the agent may not pass WebSockets',
  ]);
}

function writeOutput(io: Io, frame: Uint8Array): void {
  const bytes = frame.subarray(1);
  if (frame[0] === 2) io.stderr.write(bytes);
  else io.stdout.write(bytes);
}

/** Pipes stdin into the session (raw on a terminal), and terminal resizes; returns what undoes it. */
function attachTerminal(io: Io, ws: WebSocket, tty: boolean): () => void {
  const stdin = io.stdin as Io['stdin'] & { setRawMode?: (raw: boolean) => void };
  const raw = tty && stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode!(true);
  const onData = (chunk: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(chunk);
  const onEnd = () => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: 'stdin_eof' }));
  stdin.on('data', onData);
  stdin.on('end', onEnd);
  stdin.resume();
  const offResize = tty
    ? (io.onResize?.(() => {
        const { cols, rows } = sizeOf(io);
        if (cols && rows && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'resize', cols, rows }));
      }) ?? (() => {}))
    : () => {};
  return () => {
    offResize();
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    if (raw) stdin.setRawMode!(false);
    stdin.pause();
  };
}

function sizeOf(io: Io): { cols?: number; rows?: number } {
  const out = io.stdout as Io['stdout'] & { rows?: number };
  return { cols: out.columns, rows: out.rows };
}
