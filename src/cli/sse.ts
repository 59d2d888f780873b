/** A Server-Sent Events reader: the event stream format of the WHATWG HTML standard, enough for Slipway's streams. */

/** One event: its type (`message` unless named), its data lines joined by newlines, and its id. */
export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Yields the events of an SSE body as they arrive; comments (keep-alives) are skipped. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let event = { type: '', data: [] as string[], id: null as string | null };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) !== -1) {
      // A lone CR at the end of a chunk may be the first half of a CRLF: wait for the next chunk.
      if (buffer[newline] === '\r' && newline === buffer.length - 1) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.data.length > 0 || event.type)
          yield { event: event.type || 'message', data: event.data.join('\n'), id: event.id };
        event = { type: '', data: [], id: event.id };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') event.data.push(value);
      else if (field === 'event') event.type = value;
      else if (field === 'id') event.id = value;
    }
  }
}
