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

/** Bodies up to this many bytes are joined into one buffer with the head. */
export const JOIN_LIMIT = 128 * 1024;

/** A body being read whole. */
export class WholeBody {
  private at: number;
  /** The reads of a body kept as they came (null: the body is joined in `bytes`). */
  readonly pieces: Uint8Array[] | null;

  /**
   * `bytes` holds the visitor's head in its first `headLength` bytes (0: none) and room for the
   * body; an empty `bytes` keeps the body's reads as they come instead.
   */
  private constructor(
    private readonly bytes: Buffer,
    readonly headLength: number,
  ) {
    this.at = headLength;
    this.pieces = bytes.length === 0 ? [] : null;
  }

  /** A body joined after the head in `bytes` (its first `headLength` bytes). */
  static joined(bytes: Buffer, headLength: number): WholeBody {
    return new WholeBody(bytes, headLength);
  }

  /** A body of `length` bytes joined with no head before it. */
  static bare(length: number): WholeBody {
    return new WholeBody(Buffer.allocUnsafe(length), 0);
  }

  /** A body kept as the reads it comes in. */
  static kept(): WholeBody {
    return new WholeBody(EMPTY, 0);
  }

  /** Appends the body bytes `piece` (the response body's framing has checked they fit). */
  add(piece: Uint8Array): void {
    if (this.pieces) this.pieces.push(piece);
    else this.at += copyInto(this.bytes, this.at, piece, 0, piece.length);
  }

  /** The head (when there is one) and the joined body. */
  get filled(): Buffer {
    return this.bytes.subarray(0, this.at);
  }

  /** The joined body. */
  get body(): Buffer {
    return this.bytes.subarray(this.headLength, this.at);
  }
}

const EMPTY = Buffer.alloc(0);
