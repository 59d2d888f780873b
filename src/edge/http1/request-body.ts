/**
 * The body of a visitor's request on its way upstream, framed as it came: a Content-Length body
 * passes as its bytes, a chunked one as its chunks, once the strict reader has seen them. Bytes
 * after the body's end are the next request on the connection (pipelining) and are given back.
 */
import { ChunkedReader } from './chunked.ts';
import type { RequestHead } from './request-head.ts';

/** What became of a piece of the visitor's bytes. */
export interface BodyPiece {
  /** The part that belongs to the body, to forward as is. */
  body: Uint8Array;
  /** What follows the body (empty while it goes on). */
  rest: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Where one request body stands. */
export class RequestBody {
  /** Whether the body is complete (a request without one is complete from the start). */
  done: boolean;
  /** Whether its chunked framing was broken. */
  broken = false;
  private left: number;
  private readonly chunks: ChunkedReader | undefined;

  constructor(head: RequestHead) {
    this.left = head.framing.kind === 'length' ? head.framing.length : 0;
    this.chunks = head.framing.kind === 'chunked' ? new ChunkedReader() : undefined;
    this.done = head.framing.kind === 'none' || (this.left === 0 && !this.chunks);
  }

  /** The body of `head`: one shared, finished instance for the many requests without one. */
  static of(head: RequestHead): RequestBody {
    if (head.framing.kind !== 'none') return new RequestBody(head);
    NONE ??= new RequestBody(head);
    return NONE;
  }

  /** Splits `bytes` into body and rest; sets `broken` when the chunked framing is broken. */
  take(bytes: Uint8Array): BodyPiece {
    if (this.done) return { body: EMPTY, rest: bytes };
    if (this.chunks) {
      const used = this.chunks.read(bytes);
      if (used < 0) {
        this.broken = true;
        return { body: EMPTY, rest: EMPTY };
      }
      this.done = this.chunks.done;
      return { body: bytes.subarray(0, used), rest: bytes.subarray(used) };
    }
    const used = Math.min(this.left, bytes.length);
    this.left -= used;
    this.done = this.left === 0;
    return { body: bytes.subarray(0, used), rest: bytes.subarray(used) };
  }
}

/** The body of a request without one: done from the start, and never changed (take() returns at once). */
let NONE: RequestBody | undefined;
