import { connect } from 'node:tls';

/** A frame from the server (unmasked): its opcode and payload. */
export interface Frame {
  opcode: number;
  payload: Buffer;
}

/**
 * Opens a WebSocket over TLS to 127.0.0.1:port with SNI `servername`, sends nothing after the
 * handshake, and reads the server's frames until its close frame: the response head and the frames.
 */
export function wssFrames(
  port: number,
  servername: string,
  caPem: string,
  path: string,
  token: string,
): Promise<{ head: string; frames: Frame[] }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca: caPem }, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
    });
    let buffer = Buffer.alloc(0);
    let head: string | null = null;
    const frames: Frame[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close frame; head ${head}, ${frames.length} frames`));
    }, 15_000);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (head === null) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = buffer.subarray(0, end).toString();
        buffer = buffer.subarray(end + 4);
      }
      for (let frame = nextFrame(buffer); frame; frame = nextFrame(buffer)) {
        frames.push(frame.frame);
        buffer = buffer.subarray(frame.size);
        if (frame.frame.opcode === 8) {
          clearTimeout(timer);
          socket.destroy();
          resolve({ head, frames });
          return;
        }
      }
    });
  });
}

function nextFrame(buf: Buffer): { frame: Frame; size: number } | null {
  if (buf.length < 2) return null;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (buf.length < offset + length) return null;
  return { frame: { opcode: buf[0]! & 0x0f, payload: buf.subarray(offset, offset + length) }, size: offset + length };
}
