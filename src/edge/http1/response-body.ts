/**
 * The body of an upstream's response on its way to the visitor, and how the visitor's copy is
 * framed. A Content-Length body keeps its length; a chunked one passes as its chunks (trailers
 * included) to an HTTP/1.1 visitor, or decoded and ended by closing for HTTP/1.0; a body that
 * ends when the upstream closes becomes chunked for HTTP/1.1 (the visitor's connection lives on)
 * and stays close-delimited for HTTP/1.0. HEAD, 204 and 304 responses have no body (RFC 9112 §6.3).
 */
import { ChunkedReader } from './chunked.ts';
import type { ResponseHead } from './response-head.ts';

/** How the visitor's copy of the body is framed. */
export type VisitorFraming = 'none' | 'length' | 'chunked' | 'decoded' | 'rechunked' | 'close';

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

/** Where one response body stands. */
export class ResponseBody {
  readonly framing: VisitorFraming;
  /** Whether the body is complete. */
  done = false;
  /** Whether the upstream sent something that does not fit the framing (the connection is unusable). */
  broken = false;
  /** Bytes the body still has (Content-Length bodies). */
  left: number;
  private readonly chunks: ChunkedReader | undefined;

  constructor(head: ResponseHead, method: string, visitorMinor: 0 | 1) {
    this.left = head.framing.kind === 'length' ? head.framing.length : 0;
    this.framing = framingFor(head, method, visitorMinor);
    this.chunks = this.framing === 'chunked' || this.framing === 'decoded' ? new ChunkedReader() : undefined;
    this.done = this.framing === 'none' || (this.framing === 'length' && this.left === 0);
  }

  /** Whether the body ends when the upstream closes. */
  get closeDelimited(): boolean {
    return this.framing === 'rechunked' || this.framing === 'close';
  }

  /** The bytes to send the visitor for `bytes` from the upstream; sets `done` and `broken`. */
  take(bytes: Uint8Array): Uint8Array[] {
    if (this.done) {
      if (bytes.length > 0) this.broken = true;
      return [];
    }
    switch (this.framing) {
      case 'length': {
        const used = Math.min(this.left, bytes.length);
        this.left -= used;
        this.done = this.left === 0;
        if (used < bytes.length) this.broken = true;
        return [used === bytes.length ? bytes : bytes.subarray(0, used)];
      }
      case 'chunked':
      case 'decoded':
        return this.readChunks(bytes);
      case 'rechunked':
        return [Buffer.from(`${bytes.length.toString(16)}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1')];
      default:
        return [bytes];
    }
  }

  /** Whether `length` bytes are exactly what a Content-Length body still has; if so it is done. */
  takeWhole(length: number): boolean {
    if (this.framing !== 'length' || this.done || length !== this.left) return false;
    this.left = 0;
    this.done = true;
    return true;
  }

  /** The upstream closed: the bytes that end a close-delimited body, or null when the body was cut short. */
  upstreamClosed(): Uint8Array[] | null {
    if (this.done) return [];
    if (!this.closeDelimited) return null;
    this.done = true;
    return this.framing === 'rechunked' ? [LAST_CHUNK] : [];
  }

  private readChunks(bytes: Uint8Array): Uint8Array[] {
    const decoded: Uint8Array[] = [];
    const onData = this.framing === 'decoded' ? (d: Uint8Array) => void decoded.push(d) : undefined;
    const used = this.chunks!.read(bytes, 0, onData);
    if (used < 0) {
      this.broken = true;
      return [];
    }
    this.done = this.chunks!.done;
    if (used < bytes.length) this.broken = true;
    return onData ? decoded : [used === bytes.length ? bytes : bytes.subarray(0, used)];
  }
}

function framingFor(head: ResponseHead, method: string, visitorMinor: 0 | 1): VisitorFraming {
  const { status, framing } = head;
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) return 'none';
  if (framing.kind === 'length') return 'length';
  if (framing.kind === 'chunked') return visitorMinor === 1 ? 'chunked' : 'decoded';
  return visitorMinor === 1 ? 'rechunked' : 'close';
}
