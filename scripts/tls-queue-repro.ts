/**
 * The smallest reproduction of the long tail of new-connection HTTPS on Bun (see the README,
 * "Why new-connection HTTPS has a long tail"); run by scripts/tls-queue-repro.sh, never by tests.
 *
 *   bun scripts/tls-queue-repro.ts server native <cert.pem> <key.pem>
 *       a hello-world HTTPS server on Bun.listen's own TLS; prints its port
 *   bun scripts/tls-queue-repro.ts server duplex <cert.pem> <key.pem>
 *       the same answer, with node:tls running over a JS Duplex fed by a plain Bun.listen socket
 *   bun scripts/tls-queue-repro.ts analyse <port>   (tcpdump -n -tt text on stdin)
 *       of the handshakes a server completed while a request waited for its answer, how many had
 *       begun (ClientHello arrived) after that request: 0 for a first-come, first-served server
 */
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import { createSecureContext, TLSSocket } from 'node:tls';

const BODY = 'Hello, world!\n';
const ANSWER = `HTTP/1.1 200 OK\r\nContent-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`;

function nativeServer(cert: string, key: string): number {
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    tls: { cert, key },
    socket: {
      data(socket, chunk) {
        if (chunk.includes('\r\n\r\n')) socket.end(ANSWER);
      },
      error() {},
    },
  });
  return listener.port;
}

function duplexServer(cert: string, key: string): number {
  const context = createSecureContext({ cert, key });
  const listener = Bun.listen<{ stream: Duplex }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      open(raw) {
        // No backpressure: the answers are a few bytes.
        const stream = new Duplex({
          read() {},
          write: (chunk, _encoding, done) => done(void raw.write(chunk)),
          final: (done) => done(void raw.end()),
        });
        raw.data = { stream };
        const tls = new TLSSocket(stream, { isServer: true, secureContext: context });
        tls.on('data', (chunk: Buffer) => chunk.includes('\r\n\r\n') && tls.end(ANSWER));
        tls.on('error', () => tls.destroy());
      },
      data: (raw, chunk) => void raw.data.stream.push(chunk),
      end: (raw) => void raw.data.stream.push(null),
      close: (raw) => void raw.data.stream.destroy(),
      error() {},
    },
  });
  return listener.port;
}

/** One connection's moments, in ms: ClientHello in, server flight out, request in, answer out. */
interface Exchange {
  hello: number;
  flight: number;
  request: number;
  answer: number;
}

function exchanges(text: string, port: string): Exchange[] {
  const data = new Map<string, { client: number[]; server: number[] }>();
  for (const line of text.split('\n')) {
    const m = /^(\d+\.\d+) IP [\d.]+\.(\d+) > [\d.]+\.(\d+): Flags \[([^\]]*)\].* length (\d+)/.exec(line);
    if (!m) continue;
    const [, time, from, to, flags, length] = m;
    const fromServer = from === port;
    const key = fromServer ? to! : from!;
    if (flags === 'S') data.set(key, { client: [], server: [] });
    const conn = data.get(key);
    if (conn && Number(length) > 0) (fromServer ? conn.server : conn.client).push(Number(time) * 1000);
  }
  const out: Exchange[] = [];
  for (const { client, server } of data.values()) {
    const hello = client[0];
    const flight = server.find((t) => t > (hello ?? Infinity));
    const answer = server.at(-1);
    if (hello === undefined || flight === undefined || answer === undefined || answer <= flight) continue;
    // The request: the client's last bytes before the answer (wrk may send Finished and request apart).
    const request = client.findLast((t) => t > flight && t < answer);
    if (request !== undefined) out.push({ hello, flight, request, answer });
  }
  return out;
}

function analyse(port: string): void {
  const all = exchanges(readFileSync(0, 'utf8'), port);
  const overtaken = all
    .map((e) => all.filter((o) => o.hello > e.request && o.flight < e.answer).length)
    .sort((a, b) => a - b);
  const at = (p: number) => overtaken[Math.min(overtaken.length - 1, Math.floor(p * overtaken.length))] ?? 0;
  console.log(
    `${all.length} exchanges; handshakes begun after a request and done before its answer: p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}`,
  );
}

const [mode, kind, certFile, keyFile] = process.argv.slice(2);
if (mode === 'server' && (kind === 'native' || kind === 'duplex') && certFile && keyFile) {
  const [cert, key] = [readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8')];
  console.log(kind === 'native' ? nativeServer(cert, key) : duplexServer(cert, key));
} else if (mode === 'analyse' && kind) {
  analyse(kind);
} else {
  console.error('Usage: tls-queue-repro.ts server native|duplex <cert.pem> <key.pem> | analyse <port>');
  process.exit(2);
}
