/**
 * One proxied HTTP request: sends the visitor's request to a target with Bun's fetch and turns
 * the upstream's answer into the visitor's response, byte for byte. The exchange stays open on
 * its target until the response body has been handed over, so draining waits for downloads and
 * SSE streams, not just for response headers.
 */
import { upstreamRequestHeaders, visitorResponseHeaders, type Visitor } from './headers.ts';
import { edgePage } from './pages.ts';
import type { Target } from './target.ts';

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
  /** Time allowed until the upstream's response headers (and a small body, see WHOLE_BODY_LIMIT). */
  timeoutMs: number;
  /** Called once, when the exchange is over: body handed over, failed, or cut. */
  onEnd: () => void;
  warn: (msg: string, fields?: object) => void;
}

/** Proxies `req` to `opts.target`; never throws, and never waits past timeoutMs for headers. */
export async function forwardHttp(req: Request, opts: HttpExchangeOptions): Promise<Response> {
  const abort = new AbortController();
  let stopped: 'timeout' | 'cut' | undefined;
  let body: ReadableStreamDefaultController<Uint8Array> | undefined;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    end();
    opts.onEnd();
  };
  const end = opts.target.begin({
    cut: () => {
      stopped ??= 'cut';
      abort.abort(new Error('Target is draining'));
      body?.error(new Error('Target is draining'));
      finish();
    },
  });
  const timer = setTimeout(() => {
    stopped ??= 'timeout';
    abort.abort(new Error('Upstream timed out'));
  }, opts.timeoutMs);

  try {
    const res = await fetch(upstreamUrl(req, opts.target.address), {
      method: req.method,
      headers: upstreamRequestHeaders(req.headers, opts.visitor),
      body: req.body,
      duplex: 'half',
      // A proxy relays what the app said: no redirects followed, no bodies decompressed, and
      // no idle cut from Bun's client (5 min by default), which would end quiet SSE streams.
      redirect: 'manual',
      decompress: false,
      timeout: false,
      signal: AbortSignal.any([abort.signal, req.signal]),
    });
    const init = { status: res.status, statusText: res.statusText, headers: visitorResponseHeaders(res.headers) };
    if (!res.body || req.method === 'HEAD' || res.status === 204 || res.status === 304) {
      finish();
      return new Response(null, init);
    }
    if (Number(res.headers.get('content-length') ?? Infinity) <= WHOLE_BODY_LIMIT) {
      const bytes = await res.bytes();
      finish();
      return new Response(bytes, init);
    }
    clearTimeout(timer);
    const stream = relay(res.body, finish, (c) => (body = c));
    return new Response(stream, init);
  } catch (err) {
    finish();
    if (req.signal.aborted && !stopped) return new Response(null, { status: CLIENT_CLOSED_REQUEST });
    const status = stopped === 'timeout' ? 504 : 502;
    opts.warn('Proxying a request failed', {
      target: opts.target.address,
      status,
      error: stopped ? `${stopped}` : (err as Error).message,
    });
    return edgePage(status, req.method);
  } finally {
    clearTimeout(timer);
  }
}

/** The upstream URL for `req`: the target's address with the request's path and query as given. */
export function upstreamUrl(req: Request, address: string): string {
  const url = req.url;
  const path = url.indexOf('/', url.indexOf('//') + 2);
  return `http://${address}${path === -1 ? '/' : url.slice(path)}`;
}

/**
 * Re-streams an upstream body chunk by chunk, calling `finish` when it ends, fails or is
 * cancelled by the visitor. Pulling one chunk at a time keeps memory bounded by the visitor's
 * pace, and hands each SSE event over as soon as it arrives.
 */
function relay(
  upstream: ReadableStream<Uint8Array>,
  finish: () => void,
  expose: (c: ReadableStreamDefaultController<Uint8Array>) => void,
): ReadableStream<Uint8Array> {
  const reader = upstream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      start: expose,
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          controller.close();
          finish();
        } catch (err) {
          controller.error(err);
          finish();
        }
      },
      cancel(reason) {
        finish();
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
