import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { STDERR, STDOUT } from './protocol.ts';

/** What to run: an argument array handed to Docker as is, never joined into a shell string. */
export interface ExecRequest {
  cmd: string[];
  tty: boolean;
  cols?: number;
  rows?: number;
}

/** A running command inside a container. */
export interface RunningExec {
  /** Writes to the command's stdin; false when the socket's buffer is full. */
  write(bytes: Uint8Array): boolean;
  /** Closes the command's stdin (a half-close of the attach socket). */
  endInput(): void;
  /** Stdin bytes written but not yet taken by Docker. */
  pendingInput(): number;
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves the exit code once the output has ended. */
  exited: Promise<number>;
  /** Hangs up: the attach socket closes (with a TTY, the command gets SIGHUP). */
  close(): void;
}

/**
 * Starts `req.cmd` in the container through Docker exec, as the container's own user with its
 * own isolation (no `User`, never privileged), and calls `onOutput` with each chunk.
 */
export async function startExec(
  docker: Docker,
  containerId: string,
  req: ExecRequest,
  onOutput: (stream: number, bytes: Uint8Array) => void,
): Promise<RunningExec> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: req.cmd,
    Tty: req.tty,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Privileged: false,
    Env: req.tty ? ['TERM=xterm-256color'] : [],
    ConsoleSize: req.tty && req.cols && req.rows ? [req.rows, req.cols] : undefined,
  } as Docker.ExecCreateOptions);
  const socket = (await exec.start({ hijack: true, stdin: true, Tty: req.tty })) as Duplex;
  if (req.tty) socket.on('data', (chunk: Buffer) => onOutput(STDOUT, chunk));
  else socket.on('data', demuxer(onOutput));
  socket.on('error', () => socket.destroy());
  // Engines before API 1.42 ignore ConsoleSize: size the terminal once started, as `docker exec -it` does.
  if (req.tty && req.cols && req.rows) await exec.resize({ w: req.cols, h: req.rows }).catch(() => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    write: (bytes) => (socket.writable ? socket.write(bytes) : false),
    endInput: () => void (socket.writable && socket.end()),
    pendingInput: () => socket.writableLength,
    resize: async (cols, rows) => {
      if (req.tty) await exec.resize({ w: cols, h: rows });
    },
    exited: ended.then(() => exitCodeOf(exec)),
    close: () => socket.destroy(),
  };
}

/** Splits Docker's multiplexed stream (8-byte headers: stream, 3 zero bytes, big-endian length). */
function demuxer(onOutput: (stream: number, bytes: Uint8Array) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) return;
      const stream = pending[0] === 2 ? STDERR : STDOUT;
      onOutput(stream, pending.subarray(8, 8 + size));
      pending = pending.subarray(8 + size);
    }
  };
}

/** The exit code of a finished exec; Docker may report it a moment after the stream ends. -1 if unknown. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const info = await exec.inspect().catch(() => null);
    if (!info) return -1;
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await Bun.sleep(20);
  }
  return -1;
}
