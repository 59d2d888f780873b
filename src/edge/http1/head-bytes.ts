/**
 * The heads an exchange writes, as bytes put together in one buffer with whatever body is at hand:
 * the request head for the upstream and the visitor's response head. Both are copied from the
 * bytes they were parsed from wherever the edge leaves them as they are, rather than made into
 * strings: building and flattening header strings, and Bun's write of a JS string (several times
 * the native cost of writing a Buffer), were a large part of the engine's cost per request.
 */
import type { Visitor } from '../forwarded.ts';
import { forwardedLines, upstreamRequestHeaders, visitorResponseLines } from '../headers.ts';
import type { TrustedProxies } from '../trusted-proxies.ts';
import type { Sink } from './outbound.ts';
import type { RequestHead } from './request-head.ts';
import type { VisitorFraming } from './response-body.ts';
import type { ResponseHead } from './response-head.ts';
import { upstreamHead, visitorHead, visitorHeadBound, writeVisitorHead } from './wire.ts';
import { copyInto, writeLatin1 } from './bytes.ts';

/**
 * Where a head and a small body are put together for their one write when the sink copies what it
 * cannot send at once (a Bun socket's Outbound does), so it is free again for the next one.
 */
const SCRATCH = Buffer.alloc(16 * 1024);

const NOTHING_HELD: readonly Uint8Array[] = Object.freeze([]);

/** The head a request goes upstream with, made once per exchange (a retry sends it again). */
export class UpstreamRequestHead {
  /** The head as a string, or null for a plain HTTP/1.1 head: its own lines as sent, then `identityLines`. */
  private readonly text: string | null;
  private readonly identityLines: string = '';

  constructor(
    private readonly head: RequestHead,
    visitor: Visitor,
    trusted: TrustedProxies,
  ) {
    if (head.plain) {
      this.identityLines = forwardedLines(visitor, head.host, trusted);
      // An HTTP/1.1 request line goes as sent; HTTP/1.0 gets an HTTP/1.1 one.
      const fields = head.minor === 1 ? '' : head.source.toString('latin1', head.fieldsAt, head.fieldsEnd);
      this.text = head.minor === 1 ? null : `${head.method} ${head.url} HTTP/1.1\r\n${fields}${this.identityLines}\r\n`;
    } else {
      const headers = upstreamRequestHeaders(head.rawHeaders, visitor, trusted);
      this.text = upstreamHead(head.method, head.url, headers, head.framing.kind === 'chunked');
    }
  }

  /** The head, then the body bytes `held` while the connection opened, for a sink that copies. */
  bytes(held: readonly Uint8Array[] | null): Uint8Array {
    const body = held ?? NOTHING_HELD;
    const { text } = this;
    if (text !== null) {
      if (body.length === 0 && text.length <= SCRATCH.length) {
        return SCRATCH.subarray(0, writeLatin1(SCRATCH, 0, text));
      }
      return Buffer.concat([Buffer.from(text, 'latin1'), ...body]);
    }
    // The request line and header lines as sent, the identity lines, the blank line.
    const { source, fieldsEnd } = this.head;
    const size = fieldsEnd + this.identityLines.length + 2;
    if (body.length > 0 || size > SCRATCH.length) {
      const tail = Buffer.from(`${this.identityLines}\r\n`, 'latin1');
      return Buffer.concat([source.subarray(0, fieldsEnd), tail, ...body]);
    }
    copyInto(SCRATCH, 0, source, 0, fieldsEnd);
    identityBytes(this.identityLines).copy(SCRATCH, fieldsEnd);
    SCRATCH[size - 2] = 0x0d;
    SCRATCH[size - 1] = 0x0a;
    return SCRATCH.subarray(0, size);
  }
}

/** The last identity lines identityBytes was given, and their bytes. */
let lastIdentity = { text: '', bytes: Buffer.alloc(0) };

/**
 * `text` (identity lines) as bytes. forwardedLines gives the same string to the requests of one
 * visitor, so its bytes are kept: a native copy of them costs a fraction of writing the characters.
 */
function identityBytes(text: string): Buffer {
  if (lastIdentity.text !== text) lastIdentity = { text, bytes: Buffer.from(text, 'latin1') };
  return lastIdentity.bytes;
}

/** What the visitor's response head is made of. */
export interface VisitorHeadParts {
  head: ResponseHead;
  /** The edge's own response headers (a raw list). */
  own: readonly string[];
  framing: VisitorFraming;
  close: boolean;
}

/**
 * The visitor's response head and `body` from `from` on, in one buffer for `out`: one write, one
 * packet. `src` holds the bytes the upstream's head was parsed from while they are at hand; without
 * them the head is made as a string. A sink that keeps what it is given (node:tls) gets a buffer of
 * its own.
 */
export function visitorHeadBytes(out: Sink, parts: VisitorHeadParts, src: Buffer | null, body?: Buffer, from = 0) {
  const { head, own, framing, close } = parts;
  const length = body ? body.length - from : 0;
  let bytes = SCRATCH;
  let n = -1;
  if (src !== null) {
    if (!out.copies) bytes = Buffer.allocUnsafe(visitorHeadBound(head, own) + length);
    n = writeVisitorHead(bytes, bytes.length - length, src, head, own, framing, close);
  }
  if (n === -1) {
    const text = visitorHeadText(parts);
    n = text.length;
    bytes = out.copies && n + length <= SCRATCH.length ? SCRATCH : Buffer.allocUnsafe(n + length);
    writeLatin1(bytes, 0, text);
  }
  if (body) copyInto(bytes, n, body, from, body.length);
  return bytes.subarray(0, n + length);
}

/**
 * The visitor's response head at the start of a new buffer with `room` bytes after it, for a body
 * read whole into it (whole-body.ts); `src` as for visitorHeadBytes. Returns the buffer and the
 * head's length.
 */
export function visitorHeadWithRoom(parts: VisitorHeadParts, src: Buffer, room: number): [Buffer, number] {
  const { head, own, framing, close } = parts;
  const bytes = Buffer.allocUnsafe(visitorHeadBound(head, own) + room);
  const n = writeVisitorHead(bytes, bytes.length - room, src, head, own, framing, close);
  if (n !== -1) return [bytes, n];
  const text = visitorHeadText(parts);
  const made = Buffer.allocUnsafe(text.length + room);
  return [made, writeLatin1(made, 0, text)];
}

/** The visitor's response head made as a string, for heads whose lines are not copied from bytes. */
function visitorHeadText({ head, own, framing, close }: VisitorHeadParts): string {
  const lines = visitorResponseLines(head.rawHeaders, head.names, own, head.connection);
  return visitorHead(head.status, head.reason, lines, framing, close);
}
