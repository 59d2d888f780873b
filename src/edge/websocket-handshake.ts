/**
 * The upstream half of a proxied WebSocket's opening: a plain TCP connection to the target, on
 * which the edge writes the visitor's handshake itself (its request target byte for byte) and
 * reads the head of the answer. A 101 hands the socket over to the bridge; anything else, a
 * timeout or a closed port is the upstream refusing, which the visitor sees as a 502 or 504 page.
 */
import type { RequestLine } from './dispatch.ts';
import type { Socket } from 'node:net';
import { nodeNet } from '../lazy-libraries.ts';
import type { Visitor } from './forwarded.ts';
import { upstreamRequestHeaders } from './headers.ts';
import type { TrustedProxies } from './trusted-proxies.ts';

/** Why connecting upstream failed, as the status the visitor should get. */
export class UpstreamConnectError extends Error {
  constructor(
    readonly status: 502 | 504,
    message: string,
  ) {
    super(message);
  }
}

/** An upstream that accepted: its socket (paused), the head of its 101, and what followed it. */
export interface AcceptedHandshake {
  socket: Socket;
  head: Buffer;
  rest: Buffer;
}

/** Most bytes of an answer's head the edge reads before calling it a refusal. */
const MAX_ANSWER_HEAD = 16 * 1024;

/** The visitor's handshake as the upstream gets it: same method and target, edge-made identity headers. */
export function handshakeRequest(req: RequestLine, visitor: Visitor, trusted: TrustedProxies): string {
  const headers = upstreamRequestHeaders(req.rawHeaders, visitor, trusted, true);
  let lines = '';
  for (let i = 0; i + 1 < headers.length; i += 2) lines += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${req.method} ${req.url} HTTP/1.1\r\n${lines}\r\n`;
}

/**
 * Connects to `address`, sends `request` and then `early` (frames the visitor sent before its
 * upgrade was answered), and resolves once the upstream answered 101. Aborting `signal` fails it.
 */
export function upstreamHandshake(
  address: string,
  request: string,
  early: Buffer,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<AcceptedHandshake> {
  return new Promise((resolve, reject) => {
    const colon = address.lastIndexOf(':');
    const socket = nodeNet().connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    let answer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', aborted);
      socket.off('data', onData).off('error', refused).off('close', closed);
    };
    const fail = (status: 502 | 504, message: string) => {
      done();
      socket.destroy();
      reject(new UpstreamConnectError(status, message));
    };
    const timer = setTimeout(() => fail(504, 'Upstream timed out'), timeoutMs);
    const aborted = () => fail(502, (signal.reason as Error | undefined)?.message ?? 'Handshake aborted');
    const refused = () => fail(502, 'Upstream refused the WebSocket');
    const closed = () => fail(502, 'Upstream closed during the handshake');
    const onData = (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      const end = answer.indexOf('\r\n\r\n');
      if (end === -1) {
        if (answer.length > MAX_ANSWER_HEAD) refused();
        return;
      }
      if (!/^HTTP\/1\.1 101 /.test(answer.toString('latin1', 0, 13))) return refused();
      // Paused first: bytes arriving before the bridge pipes the socket wait in its buffer.
      socket.pause();
      done();
      // Errors end in 'close', which the bridge watches; unheard, an 'error' would crash the process.
      socket.on('error', () => {});
      resolve({ socket, head: answer.subarray(0, end + 4), rest: answer.subarray(end + 4) });
    };
    if (signal.aborted) return aborted();
    signal.addEventListener('abort', aborted);
    socket.on('data', onData).on('error', refused).on('close', closed);
    socket.write(request);
    if (early.length > 0) socket.write(early);
  });
}
