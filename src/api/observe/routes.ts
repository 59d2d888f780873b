import { Elysia, t } from 'elysia';
import type { ObserveService } from '../../observe/service.ts';
import type { LogEntry } from '../../observe/container-logs.ts';
import { ValidationError } from '../../errors.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { ProjectParams } from '../projects/schema.ts';

const Entry = t.Object({
  time: t.String({ format: 'date-time' }),
  instance: t.String({ examples: ['3-ab12cd34'] }),
  stream: t.UnionEnum(['stdout', 'stderr']),
  line: t.String(),
});
const Stats = t.Object({
  container: t.String(),
  instance: t.String(),
  cpu_percent: t.Number({ description: 'Percent of one core' }),
  memory_bytes: t.Integer(),
  memory_limit_bytes: t.Integer(),
  network_rx_bytes: t.Integer(),
  network_tx_bytes: t.Integer(),
  block_read_bytes: t.Integer(),
  block_write_bytes: t.Integer(),
  restarts: t.Integer(),
  uptime_seconds: t.Integer(),
});
const none = { next_cursor: null, has_more: false };
const Pagination = t.Object({ next_cursor: t.Null(), has_more: t.Boolean() });
const encoder = new TextEncoder();

/** GET /v1/projects/{name}/logs (runtime logs, SSE with follow) and /metrics (per container). */
export function observeRoutes({ observe }: { observe: ObserveService }) {
  return new Elysia({ prefix: '/projects/:name' })
    .use(accessPlugin)
    .get(
      '/logs',
      async ({ params, query, headers, request }) => {
        const opts = { tail: query.tail ?? 100, since: parseSince(query.since) };
        const follow = query.follow === true || (headers.accept ?? '').includes('text/event-stream');
        if (!follow) return { data: await observe.logs(params.name, opts), pagination: none };
        // A raw SSE Response bypasses the JSON response schema, which only documents the non-follow form.
        return followStream((send, signal) => observe.follow(params.name, opts, send, signal), request.signal) as never;
      },
      {
        access: { scope: 'read', project: 'param' },
        params: ProjectParams,
        query: t.Object({
          tail: t.Optional(
            t.Integer({ minimum: 0, maximum: 10000, default: 100, description: 'Lines per request, newest last' }),
          ),
          since: t.Optional(t.String({ maxLength: 40, description: 'An ISO 8601 time or Unix seconds' })),
          follow: t.Optional(t.Boolean({ description: 'Stream as Server-Sent Events, following redeploys' })),
        }),
        detail: {
          summary: 'Runtime logs of the live instances',
          description:
            'Each line with its time, instance and stream; secret values are masked. With `?follow=true` or `Accept: text/event-stream`, Server-Sent Events whose data is one such object.',
          tags: ['Observe'],
        },
        response: {
          200: t.Object({ data: t.Array(Entry), pagination: Pagination }),
          ...errors(404, 422, ...AUTH_ERRORS),
        },
      },
    )
    .get('/metrics', async ({ params }) => ({ data: await observe.metrics(params.name), pagination: none }), {
      access: { scope: 'read', project: 'param' },
      params: ProjectParams,
      detail: {
        summary: 'Resource use of the live instances',
        description: "From Docker's stats API.",
        tags: ['Observe'],
      },
      response: {
        200: t.Object({ data: t.Array(Stats), pagination: Pagination }),
        ...errors(404, 422, ...AUTH_ERRORS),
      },
    });
}

function parseSince(since: string | undefined): number | undefined {
  if (since === undefined || since === '') return undefined;
  const seconds = /^\d+$/.test(since) ? Number(since) : Date.parse(since) / 1000;
  if (!Number.isFinite(seconds)) {
    throw new ValidationError('Invalid query parameters', [
      { path: '/since', message: 'Expected an ISO 8601 time or Unix seconds' },
    ]);
  }
  return Math.floor(seconds);
}

/** An SSE response fed by `run` until the client goes away. */
function followStream(
  run: (send: (e: LogEntry) => void, signal: AbortSignal) => Promise<void>,
  clientGone: AbortSignal,
): Response {
  const stop = new AbortController();
  clientGone.addEventListener('abort', () => stop.abort(), { once: true });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      // A comment at once sends the headers, so a browser's EventSource reports the stream open
      // even while the app prints nothing.
      controller.enqueue(encoder.encode(': following\n\n'));
      const send = (e: LogEntry) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(`data: ${JSON.stringify(e)}\n\n`));
      };
      const heartbeat = setInterval(
        () => !stop.signal.aborted && controller.enqueue(encoder.encode(': keep-alive\n\n')),
        15_000,
      );
      run(send, stop.signal)
        .catch((err) =>
          controller.enqueue(
            encoder.encode(`event: error\ndata: ${JSON.stringify({ message: String((err as Error).message) })}\n\n`),
          ),
        )
        .finally(() => {
          clearInterval(heartbeat);
          try {
            controller.close();
          } catch {}
        });
    },
    cancel() {
      stop.abort();
    },
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
  });
}
