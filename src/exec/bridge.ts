import { CLOSE, outputFrame, parseControl, type AgentControl } from './protocol.ts';
import type { RunningExec } from './docker-exec.ts';

/** The agent's side of an exec WebSocket, as Bun's ServerWebSocket offers it. */
export interface ExecSocket {
  send(data: string | Uint8Array): number;
  close(code?: number, reason?: string): void;
}

/** The most stdin bytes held for a command that does not read them before the session is closed. */
const MAX_PENDING_INPUT = 8 * 1024 * 1024;

/**
 * Couples one WebSocket to one running command: stdin and control frames in, output frames out,
 * the exit code as the last message. The session ends after `idleMs` without a frame either way.
 */
export class ExecBridge {
  #exec: RunningExec | null = null;
  #queued: (string | Uint8Array)[] = [];
  #idle: ReturnType<typeof setTimeout> | undefined;
  #done = false;

  constructor(
    private readonly socket: ExecSocket,
    private readonly idleMs: number,
    private readonly onEnd: () => void,
  ) {
    this.touch();
  }

  /** Hands over the started command; frames that arrived meanwhile are applied in order. */
  attach(exec: RunningExec, started: AgentControl): void {
    if (this.#done) {
      exec.close();
      return;
    }
    this.#exec = exec;
    this.control(started);
    for (const m of this.#queued.splice(0)) this.message(m);
    void exec.exited.then((code) => this.finish(1000, { type: 'exit', code }));
  }

  /** Output of the command, sent as one frame. */
  output(stream: number, bytes: Uint8Array): void {
    if (this.#done) return;
    this.touch();
    this.socket.send(outputFrame(stream, bytes));
  }

  /** A frame from the client. */
  message(data: string | Uint8Array): void {
    if (this.#done) return;
    this.touch();
    if (!this.#exec) return void this.#queued.push(data);
    if (typeof data !== 'string') {
      if (!this.#exec.write(data) && this.#exec.pendingInput() > MAX_PENDING_INPUT)
        this.fail('bad_message', 'The command does not read its input', CLOSE.badMessage);
      return;
    }
    const control = parseControl(data);
    if (typeof control === 'string') this.fail('bad_message', control, CLOSE.badMessage);
    else if (control.type === 'stdin_eof') this.#exec.endInput();
    else this.#exec.resize(control.cols, control.rows).catch(() => {});
  }

  /** The starting of the command failed. */
  failed(message: string): void {
    this.fail('exec_failed', message, CLOSE.failed);
  }

  /** The client went away: the command is hung up. */
  closed(): void {
    this.end();
    this.#exec?.close();
  }

  private fail(code: 'idle_timeout' | 'exec_failed' | 'bad_message', message: string, closeCode: number): void {
    this.finish(closeCode, { type: 'error', code, message });
    this.#exec?.close();
  }

  private finish(closeCode: number, last: Extract<AgentControl, { type: 'exit' | 'error' }>): void {
    if (this.#done) return;
    this.control(last);
    this.end();
    this.socket.close(closeCode, last.type === 'exit' ? 'exited' : last.code);
  }

  private end(): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#idle);
    this.onEnd();
  }

  private control(msg: AgentControl): void {
    this.socket.send(JSON.stringify(msg));
  }

  private touch(): void {
    clearTimeout(this.#idle);
    this.#idle = setTimeout(
      () =>
        this.fail(
          'idle_timeout',
          `Closed after ${Math.round(this.idleMs / 1000)} s without input or output`,
          CLOSE.idle,
        ),
      this.idleMs,
    );
  }
}
