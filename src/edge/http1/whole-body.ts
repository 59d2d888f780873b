/**
 * A small response body read whole before the visitor's head goes out (exchange.ts), kept so that
 * sending it copies as little as it can. Up to JOIN_LIMIT bytes it is copied, as it arrives, into
 * the buffer its one write sends, after the visitor's head when that can be written already
 * (one packet for a short response; the copy costs less than more writes). A larger body is kept
 * as the reads it came in (each read is a buffer of its own that nothing reuses, see
 * test/edge/http1/chunks.test.ts) and written after the head one read at a time: collecting,
 * joining and copying it after the head had copied a 1 MiB body three times over.
 */
import { copyInto } from './bytes.ts';
import { type VisitorHeadParts, visitorHeadWithRoom } from './head-bytes.ts';
import type { Sink } from './outbound.ts';

/** Bodies up to this many bytes are joined into one buffer with the head. */
export const JOIN_LIMIT = 128 * 1024;

const EMPTY = Buffer.alloc(0);

/** How the exchange writes the visitor's head for a body that is complete. */
export interface HeadWriter {
  /** Writes the visitor's head, its lines copied from `src` when at hand, with `body` after it. */
  sendHead(src: Buffer | null, body?: Buffer): void;
  /** The head went out inside the body's own buffer: what follows a head being sent. */
  headSent(): void;
}

/** A body being read whole. */
export class WholeBody {
  private at: number;
  /** The reads of a body kept as they came (null: the body is joined in `bytes`). */
  private readonly pieces: Uint8Array[] | null;

  /**
   * `bytes` holds the visitor's head in its first `headLength` bytes (0: none) and room for the
   * body; an empty `bytes` keeps the body's reads as they come, and `src` the bytes the
   * upstream's head was parsed from, for writing the head once the body is complete.
   */
  private constructor(
    private readonly bytes: Buffer,
    private readonly headLength: number,
    private readonly src: Buffer | null,
  ) {
    this.at = headLength;
    this.pieces = bytes.length === 0 ? [] : null;
  }

  /**
   * Where a body of `length` bytes is read whole, the upstream's head having been parsed from
   * `src`: a larger one as its reads; a shorter one after the visitor's head, written now from
   * `head`, which is null while the request's own body is not done (then the head may still
   * change, and is written once the body is complete).
   */
  static of(length: number, src: Buffer, head: VisitorHeadParts | null): WholeBody {
    if (length > JOIN_LIMIT) return new WholeBody(EMPTY, 0, src);
    if (head === null) return new WholeBody(Buffer.allocUnsafe(length), 0, null);
    const [bytes, headLength] = visitorHeadWithRoom(head, src, length);
    return new WholeBody(bytes, headLength, null);
  }

  /** Appends the body bytes `piece` (the response body's framing has checked they fit). */
  add(piece: Uint8Array): void {
    if (this.pieces) this.pieces.push(piece);
    else this.at += copyInto(this.bytes, this.at, piece, 0, piece.length);
  }

  /** The body is complete: sends the head and the body to `out`. */
  send(out: Sink, writer: HeadWriter): void {
    if (this.pieces) {
      writer.sendHead(this.src);
      // The upstream's reads, handed over: the socket keeps what it cannot send yet without a copy.
      for (const piece of this.pieces) out.write(piece, true);
    } else if (this.headLength === 0) {
      writer.sendHead(null, this.bytes.subarray(0, this.at));
    } else {
      // A buffer made for this write: the socket keeps what it cannot send yet without a copy.
      out.write(this.bytes.subarray(0, this.at), true);
      writer.headSent();
    }
  }
}
