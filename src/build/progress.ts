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

/** Splits the response bytes into JSON messages; a message may span chunks. */
export class JsonLines {
  private pending = '';
  private readonly decoder = new TextDecoder();

  /** The complete messages in `chunk` (plus what earlier chunks left over). */
  push(chunk: Uint8Array): EngineMessage[] {
    this.pending += this.decoder.decode(chunk, { stream: true });
    const lines = this.pending.split('\n');
    this.pending = lines.pop()!;
    return lines.flatMap(parse);
  }

  /** Whatever the stream ended with. */
  end(): EngineMessage[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return parse(rest);
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
  error: string | null = null;
  /** Build containers announced (`Running in`) and not yet reported removed. */
  readonly containers = new Set<string>();
  /** Ports named by EXPOSE steps of the last stage so far, in Dockerfile order. */
  exposed: string[] = [];
  /** True once the engine has sent anything. */
  started = false;
  private text = '';

  constructor(private readonly onLine: (line: string) => void) {}

  /** Takes one message. */
  handle(msg: EngineMessage): void {
    this.started = true;
    if (typeof msg.stream === 'string') this.addText(msg.stream);
    if (typeof msg.status === 'string' && msg.progress === undefined) {
      this.emit(msg.id ? `${msg.id}: ${msg.status}` : msg.status);
    }
    if (typeof msg.aux?.ID === 'string') this.imageId = msg.aux.ID;
    if (msg.error !== undefined || msg.errorDetail !== undefined) {
      this.flush();
      this.error = msg.errorDetail?.message || msg.error || 'unknown error';
      this.emit(this.error);
    }
  }

  /** Emits a last line that had no newline. */
  flush(): void {
    if (this.text !== '') this.emit(this.text);
    this.text = '';
  }

  private addText(chunk: string): void {
    this.text += chunk;
    const lines = this.text.split('\n');
    this.text = lines.pop()!;
    for (const line of lines) this.emit(line);
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
