import { describe, expect, test } from 'bun:test';
import { sseEvents, type SseEvent } from '../../src/cli/sse.ts';

async function events(chunks: string[]): Promise<SseEvent[]> {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
  const out: SseEvent[] = [];
  for await (const e of sseEvents(body)) out.push(e);
  return out;
}

describe('the SSE reader', () => {
  test('yields data events with their ids, and named events', async () => {
    expect(
      await events(['id: 1\ndata: Step 1/3\n\nid: 2\ndata: Step 2/3\n\n', 'event: end\ndata: {"status":"live"}\n\n']),
    ).toEqual([
      { event: 'message', data: 'Step 1/3', id: '1' },
      { event: 'message', data: 'Step 2/3', id: '2' },
      { event: 'end', data: '{"status":"live"}', id: '2' },
    ]);
  });

  test('joins events split anywhere across chunks, CRLF included', async () => {
    expect(await events(['id: 7\r', '\ndata: hel', 'lo\r\n', '\r\n'])).toEqual([
      { event: 'message', data: 'hello', id: '7' },
    ]);
  });

  test('skips comments (keep-alives) and joins multi-line data', async () => {
    expect(await events([': keep-alive\n\n', 'data: a\ndata: b\n\n', 'data:no-space\n\n'])).toEqual([
      { event: 'message', data: 'a\nb', id: null },
      { event: 'message', data: 'no-space', id: null },
    ]);
  });

  test('drops an event the stream ended in the middle of', async () => {
    expect(await events(['data: complete\n\n', 'data: cut'])).toEqual([
      { event: 'message', data: 'complete', id: null },
    ]);
  });
});
