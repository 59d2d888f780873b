/**
 * Reads the server name (SNI) from a TLS ClientHello before any TLS engine sees the connection, so
 * the edge can pick the certificate itself (the HTTPS listener's fair path, where Bun calls no
 * SNICallback, and its native path, which is entered with the chosen context). Strict and bounded:
 * the hello may arrive split across reads and over several handshake records, but anything that is
 * not a well-formed TLS 1.0–1.2 record layer carrying one ClientHello of at most MAX_HELLO_BYTES
 * (another record type first, an SSLv2 hello, a length that overruns its container, a repeated
 * extension, a second host name, a name with bytes no DNS name has) is refused, and the listener
 * closes the connection. Nothing is copied until a hello spans reads.
 */

/** Most bytes a ClientHello's handshake message may take (a browser's is 0.5–2 KiB; tickets add some). */
export const MAX_HELLO_BYTES = 16_384;

/** Longest record plaintext TLS allows. */
const MAX_RECORD = 16_384;
/** Most records a ClientHello may span (clients use one), and so the most bytes read before it is complete. */
const MAX_RECORDS = 32;
const MAX_BUFFERED = 4 + MAX_HELLO_BYTES + 5 * MAX_RECORDS;
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const HOST_NAME = 0;

/** What read() found: wait for more bytes, a complete hello (its name, or null without SNI), or a refusal. */
export type HelloResult = { more: true } | { servername: string | null } | { refused: string };

const MORE = { more: true } as const;

/** Accumulates a connection's first bytes until they hold its ClientHello. */
export class ClientHelloReader {
  private buffered: Buffer | null = null;

  /** All bytes received so far (to hand to the TLS engine once the hello is read). */
  get bytes(): Buffer {
    return this.buffered ?? Buffer.alloc(0);
  }

  /** Adds `chunk` and reads what is there. */
  read(chunk: Uint8Array): HelloResult {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.buffered = this.buffered ? Buffer.concat([this.buffered, bytes]) : bytes;
    const message = handshakeMessage(this.buffered);
    if (!Buffer.isBuffer(message)) return message as HelloResult;
    return parseClientHello(message);
  }
}

/** The ClientHello message from the records at the start of `buf`, MORE while incomplete, or a refusal. */
function handshakeMessage(buf: Buffer): Buffer | typeof MORE | { refused: string } {
  const fragments: Buffer[] = [];
  let have = 0;
  let need = -1;
  let at = 0;
  while (at + 5 <= buf.length) {
    if (buf[at] !== HANDSHAKE) return { refused: 'not a TLS handshake record' };
    if (buf[at + 1] !== 3 || buf[at + 2]! < 1 || buf[at + 2]! > 3) return { refused: 'not a TLS 1.0-1.2 record' };
    const length = buf.readUInt16BE(at + 3);
    if (length === 0 || length > MAX_RECORD) return { refused: 'a record length out of range' };
    if (at + 5 + length > buf.length) break;
    if (fragments.length === MAX_RECORDS) return { refused: 'a ClientHello over too many records' };
    fragments.push(buf.subarray(at + 5, at + 5 + length));
    have += length;
    at += 5 + length;
    if (need < 0 && have >= 4) {
      const head = fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
      if (head[0] !== CLIENT_HELLO) return { refused: 'the first handshake message is not a ClientHello' };
      need = 4 + head.readUIntBE(1, 3);
      if (need - 4 > MAX_HELLO_BYTES) return { refused: 'a ClientHello over the size limit' };
    }
    if (need >= 0 && have >= need) {
      // The client sends nothing else until the server answers: more handshake bytes are malformed.
      if (have > need) return { refused: 'handshake bytes after the ClientHello' };
      return fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments);
    }
  }
  if (buf.length > MAX_BUFFERED) return { refused: 'a ClientHello over the size limit' };
  return MORE;
}

/** A cursor over a message that refuses to read past its end. */
class Cursor {
  constructor(
    private readonly buf: Buffer,
    public at: number,
    private readonly end: number,
  ) {}

  get left(): number {
    return this.end - this.at;
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u16(): number {
    return this.take(2).readUInt16BE(0);
  }

  /** The next `n` bytes; throws when fewer are left. */
  take(n: number): Buffer {
    if (n > this.left) throw new HelloError('a length that overruns its container');
    this.at += n;
    return this.buf.subarray(this.at - n, this.at);
  }

  /** A cursor over the next `n` bytes, skipped here. */
  sub(n: number): Cursor {
    const start = this.at;
    this.take(n);
    return new Cursor(this.buf, start, start + n);
  }
}

class HelloError extends Error {}

/** The server name of a complete ClientHello handshake message (type and length included). */
export function parseClientHello(message: Buffer): HelloResult {
  try {
    const c = new Cursor(message, 4, message.length);
    if (c.u8() !== 3) throw new HelloError('not a TLS client version');
    c.take(1 + 32);
    const session = c.u8();
    if (session > 32) throw new HelloError('a session id over 32 bytes');
    c.take(session);
    const suites = c.u16();
    if (suites < 2 || suites % 2 !== 0) throw new HelloError('a malformed cipher suite list');
    c.take(suites);
    const compressions = c.u8();
    if (compressions < 1) throw new HelloError('no compression method');
    c.take(compressions);
    if (c.left === 0) return { servername: null };
    const extensions = c.u16();
    if (extensions !== c.left) throw new HelloError('extensions that do not fill the hello');
    return { servername: serverName(c.sub(extensions)) };
  } catch (err) {
    if (err instanceof HelloError) return { refused: err.message };
    throw err;
  }
}

/** The host name of the extensions' server_name, or null without one; each extension may appear once. */
function serverName(c: Cursor): string | null {
  const seen = new Set<number>();
  let name: string | null = null;
  while (c.left > 0) {
    const type = c.u16();
    const body = c.sub(c.u16());
    if (seen.has(type)) throw new HelloError('a repeated extension');
    seen.add(type);
    if (type === SERVER_NAME) name = hostName(body);
  }
  return name;
}

/** The one host_name of a server_name extension's body. */
function hostName(c: Cursor): string {
  const list = c.u16();
  if (list !== c.left || list === 0) throw new HelloError('a malformed server name list');
  let name: string | null = null;
  while (c.left > 0) {
    const type = c.u8();
    const bytes = c.take(c.u16());
    if (type !== HOST_NAME) continue;
    if (name !== null) throw new HelloError('two host names');
    name = dnsName(bytes);
  }
  if (name === null) throw new HelloError('a server name list without a host name');
  return name;
}

/** `bytes` as a DNS name: 1–253 letters, digits, hyphens, underscores and dots (one trailing dot allowed). */
function dnsName(bytes: Buffer): string {
  if (bytes.length === 0 || bytes.length > 254) throw new HelloError('a host name of a bad length');
  for (const b of bytes) {
    const ok =
      (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b === 45 || b === 46 || b === 95;
    if (!ok) throw new HelloError('a host name with a byte no DNS name has');
  }
  return bytes.toString('latin1');
}
