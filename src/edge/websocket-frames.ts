/**
 * Just enough of RFC 6455's framing for a proxy that relays WebSocket bytes untouched: knowing
 * where one frame ends, so that the edge can put a close frame of its own between two frames
 * when it must end a connection, and writing that close frame.
 */

/** Follows a byte stream of frames and tells whether it stands between two of them. Holds no payload. */
export class FrameBoundary {
  /** Payload bytes the current frame still has to come. */
  private payloadLeft = 0;
  /** The current frame's header while it is incomplete (at most 14 bytes). */
  private header: number[] = [];

  /** Whether everything fed so far consists of whole frames. */
  get atBoundary(): boolean {
    return this.payloadLeft === 0 && this.header.length === 0;
  }

  /** Accounts for the next bytes of the stream. */
  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= take;
        i += take;
        continue;
      }
      this.header.push(chunk[i++]!);
      const size = headerSize(this.header);
      if (size !== undefined && this.header.length === size) {
        this.payloadLeft = payloadLength(this.header);
        this.header = [];
      }
    }
  }
}

/** A close frame with `code` and `reason`; frames from a client (`masked`) carry a random mask. */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const payload = Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason).subarray(0, 123)]);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const mask = crypto.getRandomValues(new Uint8Array(4));
  const body = payload.map((b, i) => b ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, body]);
}

/** The full header size once its first two bytes are known: base, extended length, mask key. */
function headerSize(header: number[]): number | undefined {
  if (header.length < 2) return undefined;
  const len7 = header[1]! & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  return 2 + extended + (header[1]! & 0x80 ? 4 : 0);
}

/** The payload length a complete header announces. */
function payloadLength(header: number[]): number {
  const len7 = header[1]! & 0x7f;
  if (len7 < 126) return len7;
  const bytes = header.slice(2, len7 === 126 ? 4 : 10);
  // Lengths past 2^53 lose precision; such a frame never ends in practice, and the edge cuts instead.
  return bytes.reduce((n, b) => n * 256 + b, 0);
}
