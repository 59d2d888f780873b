/**
 * The ClientHello reader of the HTTPS listener: real hellos from node:tls and openssl, the same
 * bytes split across reads and over several records, hostile and malformed hellos as a table, and
 * a fuzz run of mutated and random bytes that must never throw, never read past a bound, and never
 * yield a name with a byte no DNS name has.
 */
import { describe, expect, test } from 'bun:test';
import { connect } from 'node:tls';
import { ClientHelloReader, MAX_HELLO_BYTES, parseClientHello } from '../../../src/edge/tls/client-hello.ts';

/** The first bytes a TLS client sends to a plain listener, which answers nothing. */
async function capture(start: (port: number) => void): Promise<Buffer> {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  let got = Buffer.alloc(0);
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket, chunk) {
        got = Buffer.concat([got, chunk]);
        const reader = new ClientHelloReader();
        if (!('more' in reader.read(got))) {
          resolve(got);
          socket.terminate();
        }
      },
    },
  });
  start(listener.port);
  const bytes = await promise;
  listener.stop(true);
  return bytes;
}

const nodeHello = await capture((port) =>
  connect({ host: '127.0.0.1', port, servername: 'shop.example.test' }).on('error', () => {}),
);
let openssl: ReturnType<typeof Bun.spawn> | undefined;
const opensslHello = await capture((port) => {
  openssl = Bun.spawn(['openssl', 's_client', '-connect', `127.0.0.1:${port}`, '-servername', 'API.Example.test'], {
    stdin: 'pipe',
    stdout: 'ignore',
    stderr: 'ignore',
  });
});
openssl?.kill();

/** `msg` with its handshake length set to cover all of it. */
function fixLength(msg: Buffer): Buffer {
  msg.writeUIntBE(msg.length - 4, 1, 3);
  return msg;
}

/** Reads `chunks` one after another; returns the last result. */
function readAll(chunks: Uint8Array[]) {
  const reader = new ClientHelloReader();
  let result: ReturnType<ClientHelloReader['read']> = { more: true };
  for (const chunk of chunks) result = reader.read(chunk);
  return result;
}

/** The handshake message of a one-record hello. */
function message(hello: Buffer): Buffer {
  return hello.subarray(5, 5 + hello.readUInt16BE(3));
}

/** `msg` in records of `size` bytes each (the last shorter). */
function records(msg: Buffer, size: number, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < msg.length; at += size) {
    const part = msg.subarray(at, at + size);
    const head = Buffer.alloc(5);
    head[0] = 22;
    head.writeUInt16BE(version, 1);
    head.writeUInt16BE(part.length, 3);
    out.push(head, part);
  }
  return Buffer.concat(out);
}

/** A ClientHello handshake message with `extensions` (each [type, body]); `extra` overrides raw parts. */
function build(extensions: [number, Buffer][] | null, extra: { session?: number; suites?: Buffer } = {}): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
  const suites = extra.suites ?? Buffer.from([0x13, 0x01, 0x13, 0x02]);
  const body: Buffer[] = [
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([extra.session ?? 0]),
    Buffer.alloc(extra.session ?? 0),
  ];
  body.push(u16(suites.length), suites, Buffer.from([1, 0]));
  if (extensions) {
    const ext = Buffer.concat(extensions.flatMap(([type, data]) => [u16(type), u16(data.length), data]));
    body.push(u16(ext.length), ext);
  }
  const all = Buffer.concat(body);
  return Buffer.concat([Buffer.from([1, all.length >> 16, (all.length >> 8) & 255, all.length & 255]), all]);
}

/** A server_name extension body naming `names` (type 0 unless given as [type, name]). */
function sni(...names: (string | [number, string])[]): Buffer {
  const list = Buffer.concat(
    names.map((n) => {
      const [type, name] = typeof n === 'string' ? [0, n] : n;
      const bytes = Buffer.from(name, 'latin1');
      return Buffer.concat([Buffer.from([type, bytes.length >> 8, bytes.length & 255]), bytes]);
    }),
  );
  return Buffer.concat([Buffer.from([list.length >> 8, list.length & 255]), list]);
}

describe('the ClientHello reader', () => {
  test("reads the server name of node:tls's and openssl's hellos, as sent", () => {
    expect(readAll([nodeHello])).toEqual({ servername: 'shop.example.test' });
    expect(readAll([opensslHello])).toEqual({ servername: 'API.Example.test' });
  });

  test('reads a hello split across reads at every byte', () => {
    for (const hello of [nodeHello, opensslHello]) {
      for (let cut = 1; cut < hello.length; cut++) {
        const reader = new ClientHelloReader();
        expect(reader.read(hello.subarray(0, cut))).toEqual({ more: true });
        expect('servername' in reader.read(hello.subarray(cut))).toBe(true);
        expect(reader.bytes.equals(hello)).toBe(true);
      }
      expect(readAll([...hello].map((b) => Uint8Array.of(b)))).toMatchObject({ servername: expect.any(String) });
    }
  });

  test('reads a hello spread over several records, and keeps the bytes after it for the TLS engine', () => {
    const msg = message(nodeHello);
    for (const size of [1, 7, 100, 511]) {
      if (Math.ceil(msg.length / size) > 32) continue;
      expect(readAll([records(msg, size, 0x0303)])).toEqual({ servername: 'shop.example.test' });
    }
    const early = Buffer.concat([nodeHello, Buffer.from([23, 3, 3, 0, 2, 9, 9])]);
    const reader = new ClientHelloReader();
    expect(reader.read(early)).toEqual({ servername: 'shop.example.test' });
    expect(reader.bytes.equals(early)).toBe(true);
  });

  test('a hello without SNI, or without extensions, is read as having no name', () => {
    expect(parseClientHello(build(null))).toEqual({ servername: null });
    expect(parseClientHello(build([[10, Buffer.from([0, 2, 0, 29])]]))).toEqual({ servername: null });
  });

  const refused: [string, Buffer][] = [
    ['an alert record first', Buffer.from([21, 3, 3, 0, 2, 2, 40])],
    ['an application data record first', Buffer.from([23, 3, 3, 0, 1, 0])],
    ['an SSLv2 hello', Buffer.from([0x80, 0x2e, 1, 3, 1, 0, 0x15])],
    ['a record of TLS version 3.4', records(build([[0, sni('a.test')]]), 512, 0x0304)],
    ['a record of SSL 3.0', records(build([[0, sni('a.test')]]), 512, 0x0300)],
    ['an empty record', Buffer.from([22, 3, 1, 0, 0])],
    ['a record over 16 KiB', Buffer.from([22, 3, 1, 0x40, 0x01])],
    ['a ServerHello', records(Buffer.concat([Buffer.from([2]), build(null).subarray(1)]), 512)],
    ['a hello over the size limit', records(Buffer.from([1, 0, 0x40, 0x01]), 512)],
    ['a hello over more than 32 records', records(build([[0, sni('a.test')]]), 1)],
    ['handshake bytes after the hello', records(Buffer.concat([build([[0, sni('a.test')]]), Buffer.from([20])]), 4096)],
    ['a session id over 32 bytes', records(build(null, { session: 33 }), 512)],
    ['an odd cipher suite list', records(build(null, { suites: Buffer.from([0x13, 0x01, 0x13]) }), 512)],
    ['an empty cipher suite list', records(build(null, { suites: Buffer.alloc(0) }), 512)],
    [
      'two SNI extensions',
      records(
        build([
          [0, sni('a.test')],
          [0, sni('b.test')],
        ]),
        512,
      ),
    ],
    ['two host names', records(build([[0, sni('a.test', 'b.test')]]), 512)],
    ['an empty SNI extension', records(build([[0, Buffer.alloc(0)]]), 512)],
    ['an empty host name', records(build([[0, sni('')]]), 512)],
    ['a server name list without a host name', records(build([[0, sni([1, 'a.test'])]]), 512)],
    ['a name with a NUL byte', records(build([[0, sni('a.test\u0000.evil')]]), 512)],
    ['a name with a slash', records(build([[0, sni('a.test/x')]]), 512)],
    ['a name with a space', records(build([[0, sni('a .test')]]), 512)],
    ['a name with a byte over 127', records(build([[0, sni('caf\u00e9.test')]]), 512)],
    ['a name over 254 bytes', records(build([[0, sni(`${'a'.repeat(63)}.`.repeat(4))]]), 512)],
    [
      'an extension that overruns the hello',
      records(fixLength(Buffer.concat([build(null), Buffer.from([0, 4, 0, 0, 0, 9])])), 512),
    ],
    [
      'extensions short of the hello',
      records(fixLength(Buffer.concat([build(null), Buffer.from([0, 6, 0, 0, 0, 0])])), 512),
    ],
  ];

  test.each(refused)('refuses %s', (_name, bytes) => {
    expect(readAll([bytes])).toMatchObject({ refused: expect.any(String) });
  });

  test('a list length that disagrees with its extension, or extensions short of the hello, are refused', () => {
    const body = sni('a.test');
    body.writeUInt16BE(body.length, 0);
    expect(parseClientHello(build([[0, body]]))).toMatchObject({ refused: expect.any(String) });
    const hello = build([[0, sni('a.test')]]);
    const cut = hello.subarray(0, hello.length - 1);
    cut.writeUIntBE(cut.length - 4, 1, 3);
    expect(parseClientHello(cut)).toMatchObject({ refused: expect.any(String) });
  });

  test('waits for more while a record is incomplete, and refuses once the bytes exceed the bound', () => {
    expect(readAll([Buffer.from([22, 3, 1])])).toEqual({ more: true });
    expect(readAll([Buffer.from([22, 3, 1, 0x40, 0])])).toEqual({ more: true });
    const chunks = [Buffer.from([22, 3, 1, 0x40, 0, 1, 0, 0x40, 0]), ...Array(20).fill(Buffer.alloc(1000))];
    expect(readAll(chunks)).toMatchObject({ refused: expect.any(String) });
    expect(MAX_HELLO_BYTES).toBe(16_384);
  });

  test('fuzz: mutated, truncated and random bytes never throw and never yield a name no DNS name is', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const seen = { more: 0, servername: 0, refused: 0 };
    for (let i = 0; i < 20_000; i++) {
      const base = Buffer.from(i % 2 ? nodeHello : opensslHello);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) base[Math.floor(random() * base.length)] = Math.floor(random() * 256);
      const bytes = i % 5 === 0 ? base.subarray(0, Math.floor(random() * base.length)) : base;
      const cut = Math.floor(random() * bytes.length);
      const result = readAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      if ('servername' in result && result.servername !== null)
        expect(result.servername).toMatch(/^[A-Za-z0-9._-]{1,254}$/);
      seen['more' in result ? 'more' : 'servername' in result ? 'servername' : 'refused'] += 1;
    }
    for (let i = 0; i < 5_000; i++) {
      const bytes = Buffer.alloc(Math.floor(random() * 600));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      if (i % 2) bytes.set([22, 3, 1, bytes.length >> 8, bytes.length & 255, 1].slice(0, bytes.length));
      readAll([bytes]);
    }
    // The mutations reach every outcome: the fuzz run exercises more than the first byte's check.
    expect(seen.more).toBeGreaterThan(100);
    expect(seen.servername).toBeGreaterThan(100);
    expect(seen.refused).toBeGreaterThan(100);
  });
});
