/**
 * One HTTP/1.1 GET over a unix socket, for the engine reads an idle agent repeats
 * (src/runtime/engine-reads.ts). Bun's fetch could do it, but its client runs on a thread of its
 * own with its own event loop and keeps both, and the code they ran, in every idle agent (about
 * 0.6 MiB, measured on compiled floors); the agent's own sockets run on its main loop. The request
 * asks the engine to close the connection after its answer, so the answer is everything read until
 * then: a status line, headers, and a body framed by Content-Length, by chunks, or by the close.
 */
import { ChunkedReader } from '../edge/http1/chunked.ts';
import { MAX_RESPONSE_HEAD_BYTES, parseResponseHead } from '../edge/http1/response-head.ts';

/** The answer's parts; the body is the framing's payload, as the engine sent it. */
export interface UnixAnswer {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/** How long an answer may take before the read fails and its connection is closed (a hung engine). */
const ANSWER_TIMEOUT_MS = 60_000;

/**
 * GETs `path` (with its query) from the HTTP server on `socket`. Rejects with the socket's error
 * (its `code` is ENOENT, ECONNREFUSED, EACCES…) when it is not reached, and with an error naming the
 * fault when the answer is not well-formed HTTP/1.1 or stops before its end.
 */
export async function unixGet(socket: string, path: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<UnixAnswer> {
  const parts: Uint8Array[] = [];
  const { promise: closed, resolve, reject } = Promise.withResolvers<void>();
  const connection = await Bun.connect({
    unix: socket,
    socket: {
      open(s) {
        s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      },
      data(_s, chunk) {
        parts.push(new Uint8Array(chunk));
      },
      close: () => resolve(),
      error: (_s, err) => reject(err),
      end: (s) => void s.end(),
    },
  });
  const timer = setTimeout(() => {
    reject(new Error(`The engine did not answer GET ${path.split('?')[0]} within ${timeoutMs / 1000} s`));
    connection.terminate();
  }, timeoutMs);
  try {
    await closed;
  } finally {
    clearTimeout(timer);
  }
  return parseAnswer(Buffer.concat(parts));
}

/**
 * Reads a whole HTTP/1.1 answer whose connection has closed, with the edge's own strict parsers of
 * an upstream's response head and of chunks (src/edge/http1/).
 */
export function parseAnswer(bytes: Uint8Array): UnixAnswer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0 || headEnd + 4 > MAX_RESPONSE_HEAD_BYTES)
    throw new Error('The engine closed the connection before a whole answer head');
  const head = parseResponseHead(buf, headEnd + 4);
  if (head === null) throw new Error('The engine answered with a malformed head');
  const headers = new Map<string, string>();
  head.names.forEach((name, i) => {
    const value = head.rawHeaders[2 * i + 1]!;
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  });
  const rest = buf.subarray(headEnd + 4);
  const { framing } = head;
  if (framing.kind === 'none') return { status: head.status, headers, body: rest };
  if (framing.kind === 'length') {
    if (rest.length < framing.length) throw new Error('The engine closed the connection before the whole answer');
    return { status: head.status, headers, body: rest.subarray(0, framing.length) };
  }
  const parts: Uint8Array[] = [];
  const reader = new ChunkedReader();
  if (reader.read(rest, 0, (data) => parts.push(data)) < 0)
    throw new Error('The engine answered with malformed chunks');
  if (!reader.done) throw new Error('The engine closed the connection before the whole answer');
  return { status: head.status, headers, body: Buffer.concat(parts) };
}
