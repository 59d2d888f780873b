/**
 * HTTPS handshake admission (SLIPWAY_EDGE_TLS_ADMISSION): the same certificates, refusals and
 * renewals on the native path (Bun's TLS, entered by upgradeTLS) and on the fair path (node:tls over
 * a Duplex), and clients that hold native handshake slots without finishing cannot stall others.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { closeAll, namedUpstream, onCleanup, until } from '../helpers.ts';
import { handshake, httpsRequest, startTlsEdge, testCa, type TlsTestEdge } from '../tls-helpers.ts';

afterEach(closeAll);

const route = (project: string, target: string) => ({ project, hostnames: [], targets: [target] });
const host = (hostname: string, project: string) => ({ hostname, project, redirectToHttps: false, hsts: false });

/** The path each admission sends sequential connections to: K=5 finds a free native slot, K=0 none. */
const PATHS = [
  ['native', 5],
  ['fair', 0],
] as const;

/** An edge with admission K serving shop.example.test and *.apps.example.test. */
function admissionEdge(k: number) {
  const ca = testCa();
  const shop = ca.issue(['shop.example.test']);
  const apps = ca.issue(['*.apps.example.test']);
  const edge = startTlsEdge(
    {
      routes: [route('shop', namedUpstream('shop')), route('web', namedUpstream('web'))],
      hosts: [host('shop.example.test', 'shop'), host('web.apps.example.test', 'web')],
      certificates: [shop, apps],
    },
    { tlsAdmission: k },
  );
  return { ca, shop, apps, edge };
}

/** Connections that took each path since `before`. */
function taken(edge: TlsTestEdge, before = { native: 0, fair: 0 }) {
  const now = edge.edge.tlsPaths()!;
  return { native: now.native - before.native, fair: now.fair - before.fair };
}

/** The first bytes node:tls sends for `servername`: a complete ClientHello, captured on a plain listener. */
async function clientHello(servername: string): Promise<Buffer> {
  const { promise, resolve } = Promise.withResolvers<Buffer>();
  const listener = Bun.listen({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(socket, chunk) {
        resolve(Buffer.from(chunk));
        socket.terminate();
      },
    },
  });
  tlsConnect({ host: '127.0.0.1', port: listener.port, servername }).on('error', () => {});
  const hello = await promise;
  listener.stop(true);
  return hello;
}

/** A TCP connection to the edge that sends `bytes` (nothing when empty) and then nothing more. */
function silent(port: number, bytes: Buffer): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    socket.once('connect', () => {
      if (bytes.length > 0) socket.write(bytes);
      resolve(socket);
    });
    socket.once('error', reject);
    onCleanup(() => socket.destroy());
  });
}

describe.each(PATHS)('on the %s path', (path, k) => {
  test('picks the certificate by SNI, exact name first, then a wildcard one label up', async () => {
    const { ca, shop, apps, edge } = admissionEdge(k);
    expect((await handshake(edge.httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(shop.serial);
    expect((await handshake(edge.httpsPort, 'web.apps.example.test', ca.caPem)).serial).toBe(apps.serial);
    expect((await handshake(edge.httpsPort, 'Other.Apps.Example.Test', ca.caPem)).serial).toBe(apps.serial);
    const answer = await httpsRequest(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: 'shop' });
    expect(taken(edge)).toEqual(path === 'native' ? { native: 4, fair: 0 } : { native: 0, fair: 4 });
  });

  test('refuses a name no certificate covers, a name two labels under a wildcard, and a handshake without SNI', async () => {
    const { ca, edge } = admissionEdge(k);
    for (const name of ['other.example.test', 'a.web.apps.example.test', null]) {
      await expect(handshake(edge.httpsPort, name, ca.caPem)).rejects.toThrow();
    }
    // Refused from the ClientHello, before either path: no certificate is ever shown for them.
    expect(taken(edge)).toEqual({ native: 0, fair: 0 });
  });

  test('a renewed certificate serves the next handshake; the open connection keeps its own', async () => {
    const { ca, shop, edge } = admissionEdge(k);
    const first = await handshake(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect(first.serial).toBe(shop.serial);
    const renewed = ca.issue(['shop.example.test']);
    edge.edge.apply({
      routes: [route('shop', namedUpstream('shop'))],
      hosts: [host('shop.example.test', 'shop')],
      certificates: [renewed],
    });
    expect((await handshake(edge.httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(renewed.serial);
    expect(first.socket.getPeerCertificate().serialNumber).toBe(shop.serial);
    expect(taken(edge)).toEqual(path === 'native' ? { native: 2, fair: 0 } : { native: 0, fair: 2 });
  });

  test('a kept-alive connection carries request after request', async () => {
    const { ca, edge } = admissionEdge(k);
    const socket = (await handshake(edge.httpsPort, 'shop.example.test', ca.caPem)).socket;
    let got = '';
    socket.on('data', (chunk: Buffer) => void (got += chunk.toString('latin1')));
    for (let i = 1; i <= 3; i++) {
      socket.write(`GET /${i} HTTP/1.1\r\nHost: shop.example.test\r\n\r\n`);
      await until(() => got.split('HTTP/1.1 200').length - 1 === i);
    }
    expect(taken(edge)).toEqual(path === 'native' ? { native: 1, fair: 0 } : { native: 0, fair: 1 });
  });
});

// node:tls's server (admission off) and the fair path, node:tls too, close at a client's close_notify
// without answering a request sent with it, as before; Bun's own TLS answers it.
test('on the native path, a client that ends its side right after a request still gets the answer', async () => {
  const { ca, edge } = admissionEdge(5);
  const socket = (await handshake(edge.httpsPort, 'shop.example.test', ca.caPem)).socket;
  let got = '';
  socket.on('data', (chunk: Buffer) => void (got += chunk.toString('latin1')));
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.end('GET /last HTTP/1.1\r\nHost: shop.example.test\r\n\r\n');
  await closed;
  expect(got).toStartWith('HTTP/1.1 200');
  expect(got).toEndWith('shop');
});

describe('clients holding native handshake slots', () => {
  test('K connections that sent a ClientHello and then nothing do not stall a later client: it goes the fair path at once', async () => {
    const { ca, edge } = admissionEdge(2);
    const hello = await clientHello('shop.example.test');
    await Promise.all([silent(edge.httpsPort, hello), silent(edge.httpsPort, hello)]);
    await until(() => taken(edge).native === 2);
    const started = performance.now();
    const answer = await httpsRequest(edge.httpsPort, 'shop.example.test', ca.caPem);
    // The slots are held for up to a second (HOLD_MS); the later client waited WAIT_MS at most.
    expect({ status: answer.status, promptly: performance.now() - started < 500 }).toEqual({
      status: 200,
      promptly: true,
    });
    expect(taken(edge)).toEqual({ native: 2, fair: 1 });
  });

  test('a finished handshake gives its slot back at once: connections opened one after another, all left open, all go native', async () => {
    const { ca, edge } = admissionEdge(1);
    for (let i = 0; i < 3; i++) await handshake(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect(taken(edge)).toEqual({ native: 3, fair: 0 });
  });

  test('connections that send nothing at all take no slot: a later client goes native', async () => {
    const { ca, edge } = admissionEdge(2);
    await Promise.all([0, 1, 2, 3].map(() => silent(edge.httpsPort, Buffer.alloc(0))));
    const answer = await httpsRequest(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect(answer.status).toBe(200);
    expect(taken(edge)).toEqual({ native: 1, fair: 0 });
  });

  test('a slot held by a silent handshake is given back after its hold time, and goes to a later client', async () => {
    const { ca, edge } = admissionEdge(1);
    const hello = await clientHello('shop.example.test');
    await silent(edge.httpsPort, hello);
    await until(() => taken(edge).native === 1);
    await httpsRequest(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect(taken(edge)).toEqual({ native: 1, fair: 1 });
    await Bun.sleep(1100);
    await httpsRequest(edge.httpsPort, 'shop.example.test', ca.caPem);
    expect(taken(edge)).toEqual({ native: 2, fair: 1 });
  });

  test('a burst of new connections is served in full, over both paths, each with its certificate', async () => {
    const { ca, shop, edge } = admissionEdge(2);
    const all = await Promise.all(
      Array.from({ length: 24 }, () => handshake(edge.httpsPort, 'shop.example.test', ca.caPem)),
    );
    expect(all.every((h) => h.serial === shop.serial)).toBe(true);
    const counts = taken(edge);
    expect(counts.native + counts.fair).toBe(24);
    expect(counts.native).toBeGreaterThanOrEqual(2);
  });
});
