/** A raw exec WebSocket client for tests: sends frames, collects output, control messages and the close. */
export interface ExecSession {
  ws: WebSocket;
  stdout(): string;
  stderr(): string;
  controls: Record<string, unknown>[];
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  send(data: string | Uint8Array): void;
  /** Sends `text` as stdin (a binary frame). */
  type(text: string): void;
}

/** The exec URL of `project` on `api`, with one `cmd` parameter per argument. */
export function execUrl(api: string, project: string, cmd: string[], extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const a of cmd) q.append('cmd', a);
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return `${api.replace(/^http/, 'ws')}/v1/projects/${project}/exec?${q}`;
}

/** Opens a session; `headers` go with the handshake (Bun's WebSocket takes them). */
export function openExec(url: string, headers: Record<string, string>): ExecSession {
  const ws = new WebSocket(url, { headers } as never);
  ws.binaryType = 'arraybuffer';
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const controls: Record<string, unknown>[] = [];
  ws.onmessage = (e) => {
    if (typeof e.data === 'string') controls.push(JSON.parse(e.data));
    else {
      const bytes = Buffer.from(e.data as ArrayBuffer);
      (bytes[0] === 2 ? err : out).push(bytes.subarray(1));
    }
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  const opened = new Promise<void>((resolve) => ws.addEventListener('open', () => resolve()));
  const stdout = () => Buffer.concat(out).toString();
  return {
    ws,
    stdout,
    stderr: () => Buffer.concat(err).toString(),
    controls,
    closed,
    async waitFor(text, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (!stdout().includes(text)) {
        if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} in ${JSON.stringify(stdout())}`);
        await Bun.sleep(20);
      }
    },
    send(data) {
      void opened.then(() => ws.send(data));
    },
    type(text) {
      void opened.then(() => ws.send(new TextEncoder().encode(text)));
    },
  };
}

/** Runs a command to its end without input; resolves what it printed and how it ended. */
export async function runExec(url: string, headers: Record<string, string>, input?: string) {
  const s = openExec(url, headers);
  if (input !== undefined) {
    s.send(new TextEncoder().encode(input));
    s.send(JSON.stringify({ type: 'stdin_eof' }));
  }
  const close = await s.closed;
  const exit = s.controls.find((c) => c.type === 'exit') as { code: number } | undefined;
  return { stdout: s.stdout(), stderr: s.stderr(), exit: exit?.code ?? null, close, controls: s.controls };
}
