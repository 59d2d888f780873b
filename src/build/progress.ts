/**
 * Following the classic builder's JSON stream as it arrives: each message is one JSON object per
 * line; `stream` text carries the step headers and RUN output (not split at line boundaries),
 * `error` ends a failed build and `aux.ID` names each finished stage's image.
 */
import type { StepRef } from '../deployments/failures.ts';

/** One message of the engine's build stream. */
export interface EngineMessage {
  stream?: string;
  status?: string;
  id?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  aux?: { ID?: string };
}

/** The longest line a build log keeps; the rest of a longer line is cut. */
export const MAX_LINE_CHARS = 16 * 1024;

/** The largest engine message read; the engine sends output in pieces far smaller than this. */
const MAX_MESSAGE_CHARS = 8 * 1024 * 1024;

/**
 * Splits the response bytes into JSON messages; a message may span chunks. Each chunk is scanned
 * once (pieces of an unfinished message are kept in a list, not re-split), so a long message costs
 * linear time; one past MAX_MESSAGE_CHARS is dropped rather than held.
 */
export class JsonLines {
  private pending: string[] = [];
  private pendingChars = 0;
  private readonly decoder = new TextDecoder();

  /** The complete messages in `chunk` (plus what earlier chunks left over). */
  push(chunk: Uint8Array): EngineMessage[] {
    const text = this.decoder.decode(chunk, { stream: true });
    const out: EngineMessage[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      this.keep(text.slice(start, nl));
      out.push(...this.take());
      start = nl + 1;
    }
    this.keep(text.slice(start));
    return out;
  }

  /** Whatever the stream ended with. */
  end(): EngineMessage[] {
    this.keep(this.decoder.decode());
    return this.take();
  }

  private keep(piece: string): void {
    if (piece === '') return;
    this.pendingChars += piece.length;
    if (this.pendingChars <= MAX_MESSAGE_CHARS) this.pending.push(piece);
  }

  private take(): EngineMessage[] {
    const tooLong = this.pendingChars > MAX_MESSAGE_CHARS;
    const line = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    return tooLong ? [{ stream: '[an engine message over 8 MiB was left out]\n' }] : parse(line);
  }
}

function parse(line: string): EngineMessage[] {
  const text = line.trim();
  if (text === '') return [];
  try {
    return [JSON.parse(text) as EngineMessage];
  } catch {
    return [{ stream: `${text}\n` }]; // not JSON: keep it visible in the log rather than drop it
  }
}

const STEP = /^Step (\d+)\/(\d+) : (.*)$/;
const RUNNING_IN = /^ ---> Running in ([0-9a-f]{12,64})$/;
const REMOVED = /^Removing intermediate container ([0-9a-f]{12,64})$/;
const BUILT = /^Successfully built ([0-9a-f]{12,64})$/;

/** What the build has said so far: its step, its result, and the containers it has running. */
export class BuildProgress {
  step: StepRef | null = null;
  imageId: string | null = null;
  /** The image each finished stage ended with (the engine's aux messages), the last stage's last. */
  readonly stageImages: string[] = [];
  error: string | null = null;
  /** Build containers announced (`Running in`) and not yet reported removed. */
  readonly containers = new Set<string>();
  /** Ports named by EXPOSE steps of the last stage so far, in Dockerfile order. */
  exposed: string[] = [];
  /** True once the engine has sent anything. */
  started = false;
  /** The current line so far, at most MAX_LINE_CHARS, and whether more of it was cut. */
  private text = '';
  private cut = false;

  constructor(private readonly onLine: (line: string) => void) {}

  /** Takes one message. */
  handle(msg: EngineMessage): void {
    this.started = true;
    if (typeof msg.stream === 'string') this.addText(msg.stream);
    if (typeof msg.status === 'string' && msg.progress === undefined) {
      this.emit(msg.id ? `${msg.id}: ${msg.status}` : msg.status);
    }
    if (typeof msg.aux?.ID === 'string') {
      this.imageId = msg.aux.ID;
      this.stageImages.push(msg.aux.ID);
    }
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      this.flush();
      this.error = msg.errorDetail?.message || msg.error || 'unknown error';
      this.emit(this.error);
    }
  }

  /** Emits a last line that had no newline. */
  flush(): void {
    if (this.text !== '') this.emit(this.endLine());
  }

  // Linear in the output: each chunk is scanned once, and a line stops growing at the cut.
  private addText(chunk: string): void {
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      this.grow(chunk, start, nl);
      this.emit(this.endLine());
      start = nl + 1;
    }
    this.grow(chunk, start, chunk.length);
  }

  private grow(chunk: string, from: number, to: number): void {
    const room = MAX_LINE_CHARS - this.text.length;
    if (to - from > room) this.cut = true;
    if (room > 0) this.text += chunk.slice(from, Math.min(to, from + room));
  }

  private endLine(): string {
    const line = this.cut ? `${this.text} [line cut at ${MAX_LINE_CHARS / 1024} KiB]` : this.text;
    this.text = '';
    this.cut = false;
    return line;
  }

  private emit(raw: string): void {
    // Progress bars redraw a line with \r; the log keeps what the line finally showed.
    const line =
      raw
        .split('\r')
        .filter((part) => part.trim() !== '')
        .pop()
        ?.trimEnd() ?? '';
    if (line === '') return;
    this.track(line);
    this.onLine(line);
  }

  private track(line: string): void {
    let m: RegExpExecArray | null;
    if ((m = STEP.exec(line))) {
      this.step = { index: Number(m[1]), total: Number(m[2]) };
      const [keyword = '', ...args] = m[3]!.trim().split(/\s+/);
      if (/^from$/i.test(keyword)) this.exposed = [];
      if (/^expose$/i.test(keyword)) this.exposed.push(...args);
    } else if ((m = RUNNING_IN.exec(line))) {
      this.containers.add(m[1]!);
    } else if ((m = REMOVED.exec(line))) {
      for (const id of this.containers) if (id.startsWith(m[1]!) || m[1]!.startsWith(id)) this.containers.delete(id);
    } else if ((m = BUILT.exec(line)) && this.imageId === null) {
      this.imageId = m[1]!;
    }
  }
}

/**
 * The image's first exposed TCP port: the first that the last stage's EXPOSE steps name (the
 * engine reports exposed ports as an unordered set), else the lowest one it inherited.
 */
export function firstExposedPort(exposedPorts: Record<string, unknown> | undefined, named: string[]): number | null {
  const tcp = Object.keys(exposedPorts ?? {})
    .map((key) => /^(\d+)(?:\/tcp)?$/.exec(key))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  for (const word of named) {
    const m = /^(\d+)(?:\/tcp)?$/i.exec(word);
    if (m && tcp.includes(Number(m[1]))) return Number(m[1]);
  }
  return tcp.length === 0 ? null : Math.min(...tcp);
}
