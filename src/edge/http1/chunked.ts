/**
 * A strict reader of the chunked transfer coding (RFC 9112 §7.1): chunk sizes of hex digits only
 * (no sign, no spaces, at most 15 digits), extensions of visible characters, CRLF after every size
 * line and every chunk, and a trailer section of valid field lines, bounded in size. The edge
 * forwards chunked bodies as they came, once they passed this reader, so it only says where the
 * body ends; `onData` gets the decoded bytes for a peer that cannot take chunks (HTTP/1.0).
 */
import { isTokenChar, isValueChar } from './fields.ts';

/** Most bytes of a size line or of the trailer section. */
const MAX_LINE_BYTES = 16 * 1024;

enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  TrailerStart,
  Trailer,
  TrailerLf,
  LastLf,
  Done,
}

/** Reads one chunked body from the pieces it arrives in. */
export class ChunkedReader {
  /** Whether the body is complete (its last chunk and trailer section were read). */
  done = false;
  /** Whether the framing was broken; the reader then accepts nothing more. */
  failed = false;
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private left = 0;
  private lineBytes = 0;
  private trailerStart = true;

  /**
   * Reads `buf` from `from`; returns how many bytes belong to the body (the rest follows it), or
   * -1 when the framing is broken. Decoded data goes to `onData`, as views into `buf`.
   */
  read(buf: Uint8Array, from = 0, onData?: (data: Uint8Array) => void): number {
    let i = from;
    const end = buf.length;
    while (i < end && this.state !== State.Done) {
      if (this.state === State.Data) {
        const take = Math.min(this.left, end - i);
        onData?.(buf.subarray(i, i + take));
        this.left -= take;
        i += take;
        if (this.left === 0) this.state = State.DataCr;
        continue;
      }
      if (!this.step(buf[i]!)) {
        this.failed = true;
        return -1;
      }
      i++;
    }
    this.done = this.state === State.Done;
    return i - from;
  }

  /** Advances by one byte outside chunk data; false when the byte is not allowed here. */
  private step(c: number): boolean {
    if (++this.lineBytes > MAX_LINE_BYTES) return false;
    switch (this.state) {
      case State.Size:
        return this.sizeByte(c);
      case State.Extension:
        if (c === 0x0d) this.state = State.SizeLf;
        else if (!isValueChar(c)) return false;
        return true;
      case State.SizeLf:
        return c === 0x0a && this.sizeLineEnded();
      case State.DataCr:
        this.state = State.DataLf;
        return c === 0x0d;
      case State.DataLf:
        this.newLine(State.Size);
        return c === 0x0a;
      default:
        return this.trailerByte(c);
    }
  }

  private sizeByte(c: number): boolean {
    const hex = hexValue(c);
    if (hex !== -1) {
      if (++this.digits > 15) return false;
      this.size = this.size * 16 + hex;
      return true;
    }
    if (this.digits === 0) return false;
    if (c === 0x0d) this.state = State.SizeLf;
    else if (c === 0x3b) this.state = State.Extension;
    else return false;
    return true;
  }

  private sizeLineEnded(): boolean {
    if (this.size === 0) {
      this.state = State.TrailerStart;
      this.lineBytes = 0;
      return true;
    }
    this.left = this.size;
    this.size = 0;
    this.digits = 0;
    this.state = State.Data;
    return true;
  }

  /** Trailer lines: each a field line (a token, a colon, a value) ending in CRLF; an empty line ends them. */
  private trailerByte(c: number): boolean {
    switch (this.state) {
      case State.TrailerStart:
        if (c === 0x0d) {
          this.state = State.LastLf;
          return true;
        }
        this.state = State.Trailer;
        this.trailerStart = true;
        return isTokenChar(c);
      case State.Trailer:
        if (c === 0x0d) this.state = State.TrailerLf;
        else if (c === 0x3a) this.trailerStart = false;
        else if (this.trailerStart ? !isTokenChar(c) : !isValueChar(c)) return false;
        return true;
      case State.TrailerLf:
        this.state = State.TrailerStart;
        return c === 0x0a && !this.trailerStart;
      case State.LastLf:
        this.state = State.Done;
        return c === 0x0a;
      default:
        return false;
    }
  }

  private newLine(next: State): void {
    this.state = next;
    this.lineBytes = 0;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
