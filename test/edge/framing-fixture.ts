/**
 * The fixture of the framing and differential tests: a raw TCP upstream that keeps the exact bytes
 * it receives and reads them with the strict parser of wire.ts (so an ambiguous message the edge
 * let through shows up as an error, and one request turned into two shows up as two), an edge on
 * the engine SLIPWAY_EDGE_ENGINE names, and a raw visitor connection.
 */
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { EdgeOptions } from '../../src/edge/proxy.ts';
import { onCleanup, until } from './helpers.ts';
import { parseRequest, parseResponses, values, type WireMessage } from './wire.ts';

/** The engine under test: SLIPWAY_EDGE_ENGINE, else the default (native); `node` runs the reference path. */
export const ENGINE: 'native' | 'node' = process.env.SLIPWAY_EDGE_ENGINE === 'node' ? 'node' : 'native';

/**
 * HTTPS handshake admission under test: with SLIPWAY_EDGE_TLS_ADMISSION=K set, the framing cases
 * reach the edge over HTTPS with admission K (K=0: every connection on the fair path, node:tls over
 * a Duplex; K=5: one connection at a time is always native); unset, over plain HTTP.
 */
export const FRAMING_TLS = /^\d+$/.test(process.env.SLIPWAY_EDGE_TLS_ADMISSION ?? '')
  ? Number(process.env.SLIPWAY_EDGE_TLS_ADMISSION)
  : null;

/** EdgeOptions selecting ENGINE. */
export function engineOptions(): Partial<EdgeOptions> {
  return { engine: ENGINE };
}

/** What the upstream saw: each request read strictly, or the reason the bytes were malformed. */
export interface Recorder {
  address: string;
  requests: WireMessage[];
  errors: string[];
  /** Every byte received, per connection, in order. */
  bytes: string[];
  /** Connections accepted so far. */
  connections(): number;
  reset(): void;
}

/** The upstream's answer to a request: raw bytes, and whether to close after writing them. */
export type Reply = (req: WireMessage) => { raw: string; close?: boolean };

const OK: Reply = () => ({ raw: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' });

/** One upstream connection: unread bytes, its slot in Recorder.bytes, writes not yet taken. */
type Conn = { buf: string; index: number; continued: boolean; out: Buffer[]; closing: boolean };
type Recording = Pick<Recorder, 'requests' | 'errors' | 'bytes'>;

/** Writes all of `bytes` (Bun's write may take part of them; drain calls flush), closing after them if `close`. */
function send(socket: Bun.Socket<Conn>, bytes: string, close = false): void {
  socket.data.out.push(Buffer.from(bytes, 'latin1'));
  socket.data.closing ||= close;
  flush(socket);
}

function flush(socket: Bun.Socket<Conn>): void {
  while (socket.data.out.length > 0) {
    const head = socket.data.out[0]!;
    const written = socket.write(head);
    if (written < head.length) return void (socket.data.out[0] = head.subarray(Math.max(written, 0)));
    socket.data.out.shift();
  }
  if (socket.data.closing) socket.end();
}

/** Reads and answers every complete request in a connection's buffer; a malformed one gets a 400 and a close. */
function answerRequests(socket: Bun.Socket<Conn>, rec: Recording, reply: Reply): void {
  while (!socket.data.closing) {
    const parsed = parseRequest(socket.data.buf);
    if (parsed.kind === 'error') {
      rec.errors.push(parsed.reason);
      send(socket, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', true);
      return;
    }
    if (parsed.kind === 'incomplete') {
      const expect = parsed.head && values(parsed.head.headers, 'expect')[0]?.toLowerCase();
      if (expect === '100-continue' && !socket.data.continued) send(socket, 'HTTP/1.1 100 Continue\r\n\r\n');
      socket.data.continued = expect === '100-continue';
      return;
    }
    socket.data.buf = parsed.rest;
    socket.data.continued = false;
    rec.requests.push(parsed.message);
    const answer = reply(parsed.message);
    send(socket, answer.raw, answer.close);
  }
}

/** A raw TCP upstream on 127.0.0.1 that records and answers every request on every connection. */
export function recordingUpstream(reply: Reply = OK): Recorder {
  const rec: Recording = { requests: [], errors: [], bytes: [] };
  let accepted = 0;
  const listener = Bun.listen<Conn>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(socket) {
        socket.data = { buf: '', index: rec.bytes.push('') - 1, continued: false, out: [], closing: false };
        accepted += 1;
      },
      drain: flush,
      data(socket, chunk) {
        const text = chunk.toString('latin1');
        rec.bytes[socket.data.index] += text;
        socket.data.buf += text;
        answerRequests(socket, rec, reply);
      },
    },
  });
  onCleanup(() => listener.stop(true));
  const reset = () => {
    rec.requests.length = 0;
    rec.errors.length = 0;
  };
  return { address: `127.0.0.1:${listener.port}`, ...rec, connections: () => accepted, reset };
}

/** What a visitor got back on one raw connection. */
export interface Exchange {
  raw: string;
  closed: boolean;
  responses: WireMessage[];
  /** Why the bytes received are not valid HTTP/1.1 responses, if they are not. */
  error?: string;
}

/** One write of a raw exchange: bytes, optionally sent only once `after` holds for what came back. */
export type Step = string | { after: (received: string) => boolean; send: string };

/**
 * Sends `steps` on a new connection to 127.0.0.1:port; resolves when the connection closed, or
 * when `done` holds for what came back (then after `settleMs` more), or after `timeoutMs`. With
 * `tls`, the connection speaks TLS (SNI web.localhost, any certificate accepted) before the steps.
 */
export function exchange(
  port: number,
  steps: Step[],
  methods: string[],
  done: (responses: WireMessage[]) => boolean,
  { settleMs = 60, timeoutMs = 2500, tls = false } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    let raw = '';
    let closed = false;
    const socket = !tls
      ? connect({ host: '127.0.0.1', port })
      : tlsConnect({ host: '127.0.0.1', port, servername: 'web.localhost', rejectUnauthorized: false });
    socket.on('error', () => {});
    const pending = [...steps];
    const pump = () => {
      while (pending.length > 0) {
        const step = pending[0]!;
        if (typeof step !== 'string' && !step.after(raw)) return;
        pending.shift();
        socket.write(Buffer.from(typeof step === 'string' ? step : step.send, 'latin1'));
      }
    };
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const parsed = parseResponses(raw, methods, closed);
      resolve({ raw, closed, responses: parsed.messages, ...(parsed.error ? { error: parsed.error } : {}) });
    };
    const timer = setTimeout(finish, timeoutMs);
    let settling = false;
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
      pump();
      if (!settling && done(parseResponses(raw, methods, false).messages)) {
        settling = true;
        setTimeout(finish, settleMs);
      }
    });
    socket.once('close', () => {
      closed = true;
      finish();
    });
    socket.once(tls ? 'secureConnect' : 'connect', pump);
  });
}

/** Final (non-1xx) responses among `responses`. */
export function finals(responses: WireMessage[]): WireMessage[] {
  return responses.filter((r) => Number(r.start[1]) >= 200);
}

/** Waits until a recorder has `n` requests or errors (for writes that race the visitor's read). */
export function recorded(rec: Recorder, n: number): Promise<void> {
  return until(() => rec.requests.length + rec.errors.length >= n, 1000).catch(() => {});
}
