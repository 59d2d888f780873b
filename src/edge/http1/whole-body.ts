/**
 * A small response body read whole before the visitor's head goes out (exchange.ts), collected
 * straight into the buffer its one write sends: the visitor's head first when it can be written
 * already, then the body's bytes as they arrive. Each byte is copied once, where collecting the
 * reads, joining them and copying the result after the head copied a 1 MiB body three times, and
 * the buffer is handed to the socket as it is, so what the socket cannot take yet is not copied
 * a fourth time.
 */
import { copyInto } from './bytes.ts';

/** A body being read whole, in the buffer it will be sent from. */
export class WholeBody {
  private at: number;

  /** `bytes` holds the visitor's head in its first `headLength` bytes (0: none) and room for the body. */
  constructor(
    private readonly bytes: Buffer,
    readonly headLength: number,
  ) {
    this.at = headLength;
  }

  /** A buffer for a body of `length` bytes with no head before it. */
  static bare(length: number): WholeBody {
    return new WholeBody(Buffer.allocUnsafe(length), 0);
  }

  /** Appends the body bytes `piece`; the response body's framing has checked they fit. */
  add(piece: Uint8Array): void {
    this.at += copyInto(this.bytes, this.at, piece, 0, piece.length);
  }

  /** The head (when there is one) and the body so far. */
  get filled(): Buffer {
    return this.bytes.subarray(0, this.at);
  }

  /** The body so far. */
  get body(): Buffer {
    return this.bytes.subarray(this.headLength, this.at);
  }
}
