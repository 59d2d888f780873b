/**
 * One proxied HTTP request. node:http carries it on both sides, because its client sends the
 * request target as given: fetch() resolves "/a/../b", "%2e%2e" and "//x" before sending (see
 * proxy.ts for the server side). Bodies are piped both ways, so a visitor that stops reading a
 * download stops the edge reading the upstream, and an upstream that stops reading an upload
 * stops the edge reading the visitor; nothing is buffered without bound. The exchange stays
 * open on its target until the response body has been handed over, so draining waits for
 * downloads and SSE streams, not just for response headers.
 */
import type { Agent, ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Visitor } from './forwarded.ts';
import { upstreamRequestHeaders, visitorResponseHeaders } from './headers.ts';
import { nodeHttp } from '../lazy-libraries.ts';
import { writeEdgePage } from './pages.ts';
import type { Exchange, Target } from './target.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/**
 * Fixed-length bodies up to this size are read whole, within the upstream timeout, before the
 * visitor gets the response: an upstream that dies in the middle of one is a clean 502 instead
 * of a truncated 200. Larger ones stream, with their Content-Length.
 */
export const WHOLE_BODY_LIMIT = 1024 * 1024;

/** A status for the logs when the visitor went away before the upstream answered (as nginx does). */
export const CLIENT_CLOSED_REQUEST = 499;

/** What forwarding needs besides the request. */
export interface HttpExchangeOptions {
  target: Target;
  visitor: Visitor;
  /** Peers whose X-Forwarded-* chain is kept. */
  trusted: TrustedProxies;
  /** The keep-alive pool of upstream connections. */
  agent: Agent;
  /** Time allowed until the upstream's response headers (and a small body, see WHOLE_BODY_LIMIT). */
  timeoutMs: number;
  /** Headers of the edge's own (a raw list) for the visitor's response, replacing the upstream's of the same names. */
  responseHeaders?: readonly string[];
  warn: (msg: string, fields?: object) => void;
}

/** Proxies `req` to `opts.target`, answering on `res`; resolves with the status the visitor got. Never rejects. */
export function forwardHttp(req: IncomingMessage, res: ServerResponse, opts: HttpExchangeOptions): Promise<number> {
  return new Promise((settle) => new HttpExchange(req, res, opts, settle).start());
}

/** The state of one HTTP exchange on its target: abortable, timed until headers, ended once. */
class HttpExchange implements Exchange {
  /** Why the edge itself stopped the exchange, if it did. */
  private stopped: 'timeout' | 'cut' | undefined;
  private upstream: ClientRequest | undefined;
  /** Whether the visitor's response head is written (or the visitor is gone). */
  private answered = false;
  private finished = false;
  private readonly end: () => void;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly opts: HttpExchangeOptions,
    private readonly settle: (status: number) => void,
  ) {
    this.end = opts.target.begin(this);
    this.timer = setTimeout(() => this.stop('timeout'), opts.timeoutMs);
  }

  start(): void {
    const { target, visitor, trusted, agent } = this.opts;
    const colon = target.address.lastIndexOf(':');
    const upstream = nodeHttp().request({
      host: target.address.slice(0, colon),
      port: Number(target.address.slice(colon + 1)),
      method: this.req.method,
      path: this.req.url,
      headers: upstreamRequestHeaders(this.req.rawHeaders, visitor, trusted),
      agent,
      // The visitor's Host goes upstream as it came, not the target's address.
      setHost: false,
    });
    this.upstream = upstream;
    upstream.on('response', (answer) => void this.respond(answer));
    upstream.on('error', (err) => this.fail(err));
    this.res.on('close', () => this.visitorClosed());
    // Piping a body that is not there costs more than the rest of a small request (measured).
    if (hasBody(this.req)) this.req.pipe(upstream);
    else upstream.end();
  }

  /** The target is draining and its time is up: a waiting visitor gets a 502, a streaming one is cut. */
  cut(): void {
    this.stop('cut');
  }

  private stop(why: 'timeout' | 'cut'): void {
    if (this.finished) return;
    this.stopped ??= why;
    this.fail(new Error(why === 'timeout' ? 'Upstream timed out' : 'Target is draining'));
  }

  private async respond(answer: IncomingMessage): Promise<void> {
    const status = answer.statusCode ?? 502;
    const headers = visitorResponseHeaders(answer.rawHeaders, this.opts.responseHeaders);
    const bodiless = this.req.method === 'HEAD' || status === 204 || status === 304;
    const length = Number(answer.headers['content-length'] ?? Number.NaN);
    if (bodiless || length <= WHOLE_BODY_LIMIT) {
      const body = bodiless ? Buffer.alloc(0) : await wholeBody(answer).catch((err: Error) => err);
      if (bodiless) answer.resume();
      if (body instanceof Error) return this.fail(body);
      if (!this.answer(status, answer.statusMessage, headers)) return;
      this.res.end(body);
      return this.finish();
    }
    // From here on the body streams; the timeout ran to the headers only, so long downloads and SSE live.
    clearTimeout(this.timer);
    if (!this.answer(status, answer.statusMessage, headers)) return;
    answer.on('error', () => this.res.destroy());
    answer.on('end', () => this.finish());
    answer.pipe(this.res);
  }

  /** Writes the visitor's response head once; false when the exchange is already over. */
  private answer(status: number, message: string | undefined, headers: string[]): boolean {
    if (this.finished || this.answered) return false;
    this.answered = true;
    this.res.writeHead(status, message, headers);
    this.settle(status);
    return true;
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.upstream?.destroy();
    if (this.answered) {
      // Mid-body: the visitor sees the connection end early, which is what the upstream did.
      this.res.destroy();
      this.finish();
      return;
    }
    const status = this.stopped === 'timeout' ? 504 : 502;
    this.opts.warn('Proxying a request failed', { target: this.opts.target.address, status, error: err.message });
    this.answered = true;
    writeEdgePage(this.res, status, this.req.method, this.opts.responseHeaders);
    this.settle(status);
    this.finish();
  }

  /** The visitor's connection closed: after a complete response, or while the edge still worked on it. */
  private visitorClosed(): void {
    if (this.finished) return;
    this.upstream?.destroy();
    if (!this.answered) {
      this.answered = true;
      this.settle(CLIENT_CLOSED_REQUEST);
    }
    this.finish();
  }

  /** Ends the exchange; safe to call more than once. */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.end();
  }
}

/** Whether a request announces a body: a non-zero Content-Length or any Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Reads a response body to its end; rejects when the upstream stops short of its Content-Length. */
function wholeBody(answer: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.on('end', () =>
      answer.complete ? resolve(Buffer.concat(chunks)) : reject(new Error('Upstream body cut short')),
    );
    answer.on('error', reject);
    answer.on('aborted', () => reject(new Error('Upstream body cut short')));
  });
}
