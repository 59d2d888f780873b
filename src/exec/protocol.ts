/**
 * The exec WebSocket's protocol. Client → agent: binary frames are stdin bytes; text frames are
 * JSON control messages, `{"type":"resize","cols":n,"rows":n}` and `{"type":"stdin_eof"}` (closes
 * the command's stdin). Agent → client: binary frames whose first byte names the stream (1 stdout,
 * 2 stderr; with a TTY everything is stdout) followed by its bytes; text frames `started`, `exit`
 * (then a 1000 close) and `error` (then a 4xxx close).
 */

/** Stream ids, the first byte of each output frame. */
export const STDOUT = 1;
export const STDERR = 2;

/** Close codes the agent uses besides 1000. */
export const CLOSE = { idle: 4408, failed: 4500, badMessage: 4400 } as const;

/** A control message from the client. */
export type ClientControl = { type: 'resize'; cols: number; rows: number } | { type: 'stdin_eof' };

/** A control message from the agent. */
export type AgentControl =
  | { type: 'started'; instance: string; tty: boolean }
  | { type: 'exit'; code: number }
  | { type: 'error'; code: 'idle_timeout' | 'exec_failed' | 'bad_message'; message: string };

/** The largest terminal side accepted, in cells. */
export const MAX_TERMINAL_SIDE = 1000;

/** Parses a text frame from the client; a string is the reason it is not a valid control message. */
export function parseControl(text: string): ClientControl | string {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'Control messages are JSON objects';
  }
  const m = msg as { type?: unknown; cols?: unknown; rows?: unknown };
  if (m?.type === 'stdin_eof') return { type: 'stdin_eof' };
  if (m?.type === 'resize') {
    if (!isSide(m.cols) || !isSide(m.rows))
      return `A resize needs whole-number cols and rows from 1 to ${MAX_TERMINAL_SIDE}`;
    return { type: 'resize', cols: m.cols, rows: m.rows };
  }
  return 'Unknown control message: expected type "resize" or "stdin_eof"';
}

/** An output frame: the stream id, then the bytes. */
export function outputFrame(stream: number, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(bytes.length + 1);
  frame[0] = stream;
  frame.set(bytes, 1);
  return frame;
}

function isSide(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_TERMINAL_SIDE;
}
