/**
 * One HTTP/1.1 GET over a unix socket, for the engine reads an idle agent repeats
 * (src/runtime/engine-reads.ts). Bun's fetch could do it, but its client runs on a thread of its
 * own with its own event loop and keeps both, and the code they ran, in every idle agent (about
 * 0.6 MiB, measured on compiled floors); the agent's own sockets run on its main loop. The request
 * asks the engine to close the connection after its answer, so the answer is everything read until
 * then: a status line, headers, and a body framed by Content-Length, by chunks, or by the close.
 */

/** The answer's parts; the body is the framing's payload, as the engine sent it. */
export interface UnixAnswer {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

/** How long an answer may take before the read fails and its connection is closed (a hung engine). */
const ANSWER_TIMEOUT_MS = 60_000;

/** Largest answer head accepted, as Bun's own client: an engine never sends more. */
const MAX_HEAD_BYTES = 64 * 1024;

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

/** Reads a whole HTTP/1.1 answer whose connection has closed. */
export function parseAnswer(bytes: Uint8Array): UnixAnswer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0 || headEnd > MAX_HEAD_BYTES)
    throw new Error('The engine closed the connection before a whole answer head');
  const [statusLine, ...lines] = buf.toString('latin1', 0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine!);
  if (!status) throw new Error(`The engine answered with a malformed status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`The engine answered with a malformed header line: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  const rest = buf.subarray(headEnd + 4);
  const encoding = headers.get('transfer-encoding');
  if (encoding !== undefined) {
    if (encoding.toLowerCase() !== 'chunked') throw new Error(`The engine answered with transfer-encoding ${encoding}`);
    return { status: Number(status[1]), headers, body: unchunk(rest) };
  }
  const length = headers.get('content-length');
  if (length === undefined) return { status: Number(status[1]), headers, body: rest };
  if (!/^\d+$/.test(length)) throw new Error(`The engine answered with content-length ${length}`);
  if (rest.length < Number(length)) throw new Error('The engine closed the connection before the whole answer');
  return { status: Number(status[1]), headers, body: rest.subarray(0, Number(length)) };
}

/** The payload of a chunked body: size lines (hex, extensions ignored), data, up to the last chunk. */
function unchunk(body: Buffer): Uint8Array {
  const out: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error('The engine closed the connection before the whole answer');
    const size = /^([0-9a-fA-F]{1,8})(?:;.*)?$/.exec(body.toString('latin1', at, lineEnd));
    if (!size) throw new Error('The engine answered with a malformed chunk');
    const n = Number.parseInt(size[1]!, 16);
    if (n === 0) return Buffer.concat(out); // trailers, if any, are of no use here
    const start = lineEnd + 2;
    if (body.length < start + n + 2) throw new Error('The engine closed the connection before the whole answer');
    if (body[start + n] !== 13 || body[start + n + 1] !== 10)
      throw new Error('The engine answered with a malformed chunk');
    out.push(body.subarray(start, start + n));
    at = start + n + 2;
  }
}
