import type { DeploymentRow } from '../../db/deployments.ts';
import { FINAL_STATUSES } from '../../deployments/lifecycle.ts';
import type { DeploymentLogs } from '../../deployments/logs.ts';

const HEARTBEAT_MS = 15_000;
const BATCH = 500;
const encoder = new TextEncoder();

/**
 * Server-Sent Events of a deployment's log: one `data:` event per line with the line's
 * sequence number as `id` (so `Last-Event-ID` resumes), then an `end` event with the final
 * status. Each follower reads the database at its own pace, pulled by the client's reads.
 */
export function logEventStream(
  logs: DeploymentLogs,
  id: string,
  afterSeq: number,
  current: () => DeploymentRow | undefined,
): Response {
  let cursor = afterSeq;
  let closed = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (!closed) {
        const rows = logs.read(id, cursor, BATCH);
        if (rows.length > 0) {
          cursor = rows[rows.length - 1]!.seq;
          controller.enqueue(encoder.encode(rows.map((r) => `id: ${r.seq}\ndata: ${r.line}\n\n`).join('')));
          return;
        }
        const row = current();
        if (!row || FINAL_STATUSES.includes(row.status)) {
          // Lines written just before the final status change are read before ending.
          if (logs.read(id, cursor, 1).length > 0) continue;
          const end = { status: row?.status ?? 'deleted', failure_reason: row?.failure_reason ?? null };
          controller.enqueue(encoder.encode(`event: end\ndata: ${JSON.stringify(end)}\n\n`));
          controller.close();
          closed = true;
          return;
        }
        const before = cursor;
        await logs.waitFor(id, HEARTBEAT_MS);
        if (logs.read(id, before, 1).length === 0 && !closed) {
          controller.enqueue(encoder.encode(': keep-alive\n\n'));
          return;
        }
      }
    },
    cancel() {
      closed = true;
    },
  });
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    },
  });
}

/** The whole log so far as plain text. */
export function logText(logs: DeploymentLogs, id: string): Response {
  const lines: string[] = [];
  for (let cursor = 0; ; ) {
    const rows = logs.read(id, cursor, 5000);
    if (rows.length === 0) break;
    for (const r of rows) lines.push(r.line);
    cursor = rows[rows.length - 1]!.seq;
  }
  return new Response(lines.length ? `${lines.join('\n')}\n` : '', {
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
}
