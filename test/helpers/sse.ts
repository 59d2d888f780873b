/** One Server-Sent Event as a test sees it. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/**
 * Reads SSE events from a response until the stream ends, `until` says stop (it sees every
 * event so far), or `timeoutMs` passes; comments (keep-alives) are skipped. Cancels the stream.
 */
export async function readSse(
  res: Response,
  until: (seen: SseEvent[]) => boolean = () => false,
  timeoutMs = 20_000,
): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = Date.now() + timeoutMs;
  let buffer = '';
  while (!until(out) && Date.now() < deadline) {
    const { value, done } = await Promise.race([
      reader.read(),
      Bun.sleep(deadline - Date.now()).then(() => ({ value: '', done: true })),
    ]);
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (block.startsWith(':')) continue;
      const e: SseEvent = { data: '' };
      for (const line of block.split('\n')) {
        const [k, ...v] = line.split(': ');
        if (k === 'id') e.id = v.join(': ');
        else if (k === 'event') e.event = v.join(': ');
        else if (k === 'data') e.data = v.join(': ');
      }
      out.push(e);
    }
  }
  await reader.cancel().catch(() => {});
  return out;
}
