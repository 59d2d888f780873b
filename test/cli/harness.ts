/**
 * Running CLI commands in-process with a fake terminal (or none), and a fake agent: a real HTTP
 * server on a random port whose routes the test writes, recording every request it receives.
 */
import { PassThrough, Writable } from 'node:stream';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Io } from '../../src/cli/io.ts';
import { run } from '../../src/cli/run.ts';

/** A fixed "now" so that ages print the same every run: 2026-01-02T03:04:05Z. */
export const NOW = Date.parse('2026-01-02T03:04:05.000Z');

/** Options of a fake invocation. */
export interface FakeIoOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** stdin, stdout and stderr are terminals. */
  tty?: boolean;
  /** Keep colours on a terminal (off by default, so expected outputs stay readable). */
  colour?: boolean;
  /** Answers given, in order, to the prompts. */
  answers?: string[];
  stdin?: string;
  /** Called when the command starts listening for Ctrl-C; receives the function that sends one. */
  onInterruptReady?: (interrupt: () => void) => void;
}

/** What a fake invocation printed and did. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  asked: string[];
}

class Capture extends Writable {
  text = '';
  constructor(readonly isTTY: boolean) {
    super();
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/** Runs `slipway <args>` in this process against the fake Io. */
export async function runCli(args: string[], opts: FakeIoOptions = {}): Promise<Result> {
  const stdout = new Capture(opts.tty === true);
  const stderr = new Capture(opts.tty === true);
  const stdin = Object.assign(new PassThrough(), { isTTY: opts.tty === true });
  stdin.end(opts.stdin ?? '');
  const asked: string[] = [];
  const answers = [...(opts.answers ?? [])];
  const handlers = new Set<() => void>();
  const io: Io = {
    env: { HOME: '/nonexistent-home', ...(opts.tty && !opts.colour ? { NO_COLOR: '1' } : {}), ...opts.env },
    cwd: opts.cwd ?? mkdtempSync(join(tmpdir(), 'slipway-cli-')),
    stdout,
    stderr,
    stdin,
    execPath: '/opt/slipway/slipway',
    now: () => NOW,
    onInterrupt(handler) {
      handlers.add(handler);
      opts.onInterruptReady?.(() => {
        for (const h of handlers) h();
      });
      return () => void handlers.delete(handler);
    },
    async ask(question) {
      asked.push(question);
      return answers.shift() ?? '';
    },
  };
  const code = await run(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text, asked };
}

/** A request the fake agent received. */
export interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Headers;
  body: Uint8Array;
}

/** A route handler of the fake agent. */
export type Handler = (req: Request, url: URL) => Response | Promise<Response>;

/** A fake agent: `routes` keyed by "METHOD /path"; anything else is a 404 in the API's envelope. */
export function fakeAgent(routes: Record<string, Handler>) {
  const received: Received[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const url = new URL(req.url);
      const body = new Uint8Array(await req.arrayBuffer());
      received.push({
        method: req.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body,
      });
      const handler = routes[`${req.method} ${url.pathname}`];
      if (handler)
        return handler(
          new Request(req.url, { method: req.method, headers: req.headers, body: body.length ? body : undefined }),
          url,
        );
      return apiError(404, 'not_found', `No route ${req.method} ${url.pathname}`);
    },
  });
  const url = `http://127.0.0.1:${server.port}`;
  return {
    url,
    received,
    env: { SLIPWAY_URL: url, SLIPWAY_TOKEN: 'slw_test' },
    stop: () => server.stop(true),
  };
}

/** A JSON response. */
export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status, headers: { 'x-request-id': 'req_test' } });
}

/** The API's error envelope. */
export function apiError(
  status: number,
  code: string,
  message: string,
  issues?: { path: string; message: string }[],
): Response {
  return json({ error: { code, message, request_id: 'req_abc123', ...(issues ? { issues } : {}) } }, status);
}

/** A list page. */
export function page(data: unknown[]): Response {
  return json({ data, pagination: { next_cursor: null, has_more: false } });
}

/** An SSE response from raw event text, sent in the given chunks with a pause between them. */
export function sse(chunks: string[], pauseMs = 10): Response {
  const enc = new TextEncoder();
  let i = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i >= chunks.length) return controller.close();
      if (i > 0) await Bun.sleep(pauseMs);
      controller.enqueue(enc.encode(chunks[i++]!));
    },
  });
  return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
}
