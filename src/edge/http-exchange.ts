/**
 * One proxied HTTP request: sends the visitor's request to a target with Bun's fetch and turns
 * the upstream's answer into the visitor's response, byte for byte. The exchange stays open on
 * its target until the response body has been handed over, so draining waits for downloads and
 * SSE streams, not just for response headers.
 */
import type { Visitor } from './forwarded.ts';
import { upstreamRequestHeaders, visitorResponseHeaders } from './headers.ts';
import { edgePage } from './pages.ts';
import type { Exchange, Target } from './target.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/**
 * Fixed-length bodies up to this size are read whole before answering. Bun.serve drops a
 * handler's Content-Length whenever the body is still a stream (oven-sh/bun#10507) and sends it
 * chunked; holding small bodies keeps their Content-Length exact. Larger ones stream, chunked.
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
  /** Time allowed until the upstream's response headers (and a small body, see WHOLE_BODY_LIMIT). */
  timeoutMs: number;
  /** Called once, when the exchange is over: body handed over, failed, or cut. */
  onEnd: () => void;
  warn: (msg: string, fields?: object) => void;
}

/** Proxies `req` to `opts.target`; never throws, and never waits past timeoutMs for headers. */
export async function forwardHttp(req: Request, opts: HttpExchangeOptions): Promise<Response> {
  const exchange = new HttpExchange(opts);
  try {
    const res = await fetch(upstreamUrl(req, opts.target.address), {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers, opts.visitor, opts.trusted),
      body: req.body,
      duplex: 'half',
      // A proxy relays what the app said: no redirects followed, no bodies decompressed, and
      // no idle cut from Bun's client (5 min by default), which would end quiet SSE streams.
      redirect: 'manual',
      decompress: false,
      timeout: false,
      signal: AbortSignal.any([exchange.signal, req.signal]),
    });
    return await respond(req, res, exchange);
  } catch (err) {
    exchange.finish();
    if (req.signal.aborted && !exchange.stopped) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    const status = exchange.stopped === 'timeout' ? 504 : 502;
    const error = exchange.stopped ?? (err as Error).message;
    opts.warn('Proxying a request failed', { target: opts.target.address, status, error });
    return edgePage(status, req.method);
  }
}

/** The upstream URL for `req`: the target's address with the request's path and query as given. */
export function upstreamUrl(req: Request, address: string): string {
  const url = req.url;
  const path = url.indexOf('/', url.indexOf('//') + 2);
  return `http://${address}${path === -1 ? '/' : url.slice(path)}`;
}

/** Turns the upstream's response into the visitor's, ending the exchange when the body is over. */
async function respond(req: Request, res: Response, exchange: HttpExchange): Promise<Response> {
  const init = { status: res.status, statusText: res.statusText, headers: visitorResponseHeaders(res.headers) };
  if (!res.body || req.method === 'HEAD' || res.status === 204 || res.status === 304) {
    exchange.finish();
    return new Response(null, init);
  }
  if (Number(res.headers.get('content-length') ?? Infinity) <= WHOLE_BODY_LIMIT) {
    const bytes = await res.bytes();
    exchange.finish();
    return new Response(bytes, init);
  }
  exchange.headersArrived();
  return new Response(relay(res.body, exchange), init);
}

/** The state of one HTTP exchange on its target: abortable, timed until headers, ended once. */
class HttpExchange implements Exchange {
  /** Why the edge itself stopped the exchange, if it did. */
  stopped: 'timeout' | 'cut' | undefined;
  /** The visitor-facing body, once streaming, so that a cut can end it even while nobody reads. */
  body: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly abort = new AbortController();
  private readonly end: () => void;
  private readonly timer: ReturnType<typeof setTimeout>;
  private finished = false;

  constructor(private readonly opts: HttpExchangeOptions) {
    this.end = opts.target.begin(this);
    this.timer = setTimeout(() => this.stop('timeout', 'Upstream timed out'), opts.timeoutMs);
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  cut(): void {
    this.stop('cut', 'Target is draining');
    this.body?.error(new Error('Target is draining'));
    this.finish();
  }

  /** The timeout runs to the response headers only: a long download or SSE stream is not cut. */
  headersArrived(): void {
    clearTimeout(this.timer);
  }

  /** Ends the exchange; safe to call more than once. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.end();
    this.opts.onEnd();
  }

  private stop(why: 'timeout' | 'cut', message: string): void {
    this.stopped ??= why;
    this.abort.abort(new Error(message));
  }
}

/**
 * Re-streams an upstream body chunk by chunk, finishing the exchange when it ends, fails or is
 * cancelled by the visitor. Pulling one chunk at a time keeps memory bounded by the visitor's
 * pace, and hands each SSE event over as soon as it arrives.
 */
function relay(upstream: ReadableStream<Uint8Array>, exchange: HttpExchange): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      start: (controller) => void (exchange.body = controller),
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          controller.close();
          exchange.finish();
        } catch (err) {
          controller.error(err);
          exchange.finish();
        }
      },
      cancel(reason) {
        exchange.finish();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
