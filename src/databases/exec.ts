import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { ExecOutput } from './demux.ts';

/** How a command runs inside the database container. Commands are argument arrays, never shell strings. */
export interface ExecOptions {
  /** Extra environment (`KEY=value`), e.g. PGPASSWORD; it never appears in the command line. */
  env?: string[];
  user?: string;
}

/** A finished command. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A failed command inside the database container, with the tail of its stderr. */
export class ExecFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${command} exited with code ${exitCode}${stderr ? `: ${stderr}` : ''}`);
    this.name = 'ExecFailedError';
  }
}

/** The most stdout `runCommand` keeps; its commands print a line or two. */
const MAX_COLLECTED_BYTES = 1024 * 1024;

/**
 * Runs a command to completion and collects its output, writing `input` to its stdin when given
 * (streamed with backpressure; stdin is closed when `input` ends). Never throws for a non-zero
 * exit code: that is the caller's to judge.
 */
export async function runCommand(
  docker: Docker,
  containerId: string,
  cmd: string[],
  opts: ExecOptions & { input?: Readable } = {},
): Promise<ExecResult> {
  const { output, done } = await startCommand(docker, containerId, cmd, opts);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of output as AsyncIterable<Buffer>) {
    if (bytes < MAX_COLLECTED_BYTES) chunks.push(chunk);
    bytes += chunk.length;
  }
  const exitCode = await done;
  return { exitCode, stdout: Buffer.concat(chunks).toString('utf8'), stderr: output.stderr() };
}

/**
 * Starts a command and returns its stdout as a stream that ends cleanly only if the command exits
 * with 0; otherwise the stream fails with an ExecFailedError carrying stderr. Nothing is buffered
 * beyond the stream's high-water mark: a slow reader slows the command down.
 */
export async function streamCommand(
  docker: Docker,
  containerId: string,
  cmd: string[],
  opts: ExecOptions = {},
): Promise<ExecOutput> {
  const { output } = await startCommand(docker, containerId, cmd, opts, true);
  return output;
}

async function startCommand(
  docker: Docker,
  containerId: string,
  cmd: string[],
  opts: ExecOptions & { input?: Readable },
  failOnExitCode = false,
): Promise<{ output: ExecOutput; done: Promise<number> }> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    Env: opts.env,
    User: opts.user,
    AttachStdin: !!opts.input,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
  });
  const socket = await exec.start({ hijack: true, stdin: !!opts.input });
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  const output: ExecOutput = new ExecOutput(async (): Promise<Error | null> => {
    const exitCode = await exitCodeOf(exec);
    resolveDone(exitCode);
    return failOnExitCode && exitCode !== 0 ? new ExecFailedError(cmd[0]!, exitCode, output.stderr()) : null;
  });
  // The socket's read side feeds the demuxer; a reader that gives up closes the socket too.
  socket.pipe(output);
  socket.on('error', (error) => output.destroy(error));
  output.on('close', () => socket.destroy());
  if (opts.input) {
    // Ending the write side (a half-close) is what closes the command's stdin. A failing input
    // (an upload cut short) destroys the socket with its error, which fails the output; the
    // command then sees its stdin end early.
    pipeline(opts.input, socket).catch(() => {});
  }
  return { output, done };
}

/** The exit code of a finished exec; Docker may report it a moment after the stream ends. */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    if (attempt === 100) throw new Error(`Exec ${exec.id} still runs after its output ended`);
    await Bun.sleep(20);
  }
}
