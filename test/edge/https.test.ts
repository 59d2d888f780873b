import { afterEach, describe, expect, test } from 'bun:test';
import { CertificateStore } from '../../src/edge/certificates.ts';
import { createLogger } from '../../src/log.ts';
import { closeAll, namedUpstream, upstream } from './helpers.ts';
import { handshake, httpsRequest, startTlsEdge, testCa } from './tls-helpers.ts';

afterEach(closeAll);

const route = (project: string, target: string) => ({ project, hostnames: [], targets: [target] });
const host = (hostname: string, project: string) => ({ hostname, project, redirectToHttps: false, hsts: false });

/** Runs curl against the edge's HTTPS port, resolving `name` to 127.0.0.1; returns its exit code and output. */
async function curl(port: number, name: string, caFile: string): Promise<{ code: number; out: string }> {
  const run = Bun.spawn(
    ['curl', '-sS', '--resolve', `${name}:${port}:127.0.0.1`, '--cacert', caFile, `https://${name}:${port}/`],
    { stdout: 'pipe', stderr: 'pipe' },
  );
  const out = (await new Response(run.stdout).text()) + (await new Response(run.stderr).text());
  return { code: await run.exited, out };
}

describe('the HTTPS listener', () => {
  test('picks the certificate by SNI: each of two names gets its own, through curl and node:tls alike', async () => {
    const ca = testCa();
    const shop = ca.issue(['shop.example.test']);
    const blog = ca.issue(['blog.example.test']);
    const { httpsPort } = startTlsEdge({
      routes: [route('shop', namedUpstream('shop')), route('blog', namedUpstream('blog'))],
      hosts: [host('shop.example.test', 'shop'), host('blog.example.test', 'blog')],
      certificates: [shop, blog],
    });
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(shop.serial);
    expect((await handshake(httpsPort, 'blog.example.test', ca.caPem)).serial).toBe(blog.serial);
    expect(await curl(httpsPort, 'shop.example.test', ca.caFile)).toEqual({ code: 0, out: 'shop' });
    expect(await curl(httpsPort, 'blog.example.test', ca.caFile)).toEqual({ code: 0, out: 'blog' });
  });

  test('serves a wildcard certificate for names one label under it only', async () => {
    const ca = testCa();
    const wildcard = ca.issue(['*.apps.example.test']);
    const { httpsPort } = startTlsEdge({
      routes: [route('web', namedUpstream('web'))],
      hosts: [host('web.apps.example.test', 'web')],
      certificates: [wildcard],
    });
    expect((await handshake(httpsPort, 'web.apps.example.test', ca.caPem)).serial).toBe(wildcard.serial);
    expect((await handshake(httpsPort, 'Other.Apps.Example.Test', ca.caPem)).serial).toBe(wildcard.serial);
    await expect(handshake(httpsPort, 'a.b.apps.example.test', ca.caPem)).rejects.toThrow();
    await expect(handshake(httpsPort, 'apps.example.test', ca.caPem)).rejects.toThrow();
    const res = await httpsRequest(httpsPort, 'web.apps.example.test', ca.caPem);
    expect([res.status, res.body]).toEqual([200, 'web']);
  });

  test('prefers an exact certificate over a wildcard one', async () => {
    const ca = testCa();
    const wildcard = ca.issue(['*.example.test']);
    const exact = ca.issue(['shop.example.test']);
    const { httpsPort } = startTlsEdge({ routes: [], certificates: [wildcard, exact] });
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(exact.serial);
    expect((await handshake(httpsPort, 'blog.example.test', ca.caPem)).serial).toBe(wildcard.serial);
  });

  test('fails the handshake for a name no certificate covers, and without SNI: there is no default certificate', async () => {
    const ca = testCa();
    const { httpsPort } = startTlsEdge({ routes: [], certificates: [ca.issue(['shop.example.test'])] });
    await expect(handshake(httpsPort, 'other.example.test', ca.caPem)).rejects.toThrow();
    await expect(handshake(httpsPort, null, ca.caPem)).rejects.toThrow();
    // The listener is none the worse for it.
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem)).protocol).toMatch(/^TLSv1\.[23]$/);
  });

  test('speaks TLS 1.2 with forward-secret AEAD ciphers or TLS 1.3, and HTTP/1.1 as its only ALPN protocol', async () => {
    const ca = testCa();
    const { httpsPort } = startTlsEdge({ routes: [], certificates: [ca.issue(['shop.example.test'])] });
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem, ['h2', 'http/1.1'])).alpn).toBe('http/1.1');
    /** The cipher openssl s_client settles on with `args`, "(NONE)" when the handshake fails. */
    const cipher = async (...args: string[]) => {
      const run = Bun.spawn(
        ['openssl', 's_client', '-connect', `127.0.0.1:${httpsPort}`, '-servername', 'shop.example.test', ...args],
        { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' },
      );
      return /Cipher is (\S+)/.exec(await new Response(run.stdout).text())?.[1];
    };
    expect(await cipher('-tls1_3')).toMatch(/^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
    expect(await cipher('-tls1_2')).toMatch(/^ECDHE-ECDSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)$/);
    expect(await cipher('-tls1_1')).toBe('(NONE)');
    expect(await cipher('-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-SHA')).toBe('(NONE)');
    expect(await cipher('-tls1_2', '-cipher', 'AES128-GCM-SHA256')).toBe('(NONE)');
  });

  test('tells the app the visitor came over HTTPS, in X-Forwarded-Proto and Forwarded', async () => {
    const ca = testCa();
    const echo = upstream((req) => Response.json(Object.fromEntries(req.headers))).address;
    const { httpsPort, get } = startTlsEdge({
      routes: [route('web', echo)],
      hosts: [host('shop.example.test', 'web')],
      certificates: [ca.issue(['shop.example.test'])],
    });
    const seen = JSON.parse((await httpsRequest(httpsPort, 'shop.example.test', ca.caPem)).body);
    expect(seen).toMatchObject({
      host: 'shop.example.test',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '127.0.0.1',
      forwarded: 'for=127.0.0.1;host=shop.example.test;proto=https',
    });
    const plain = (await (await get('shop.example.test')).json()) as Record<string, string>;
    expect(plain['x-forwarded-proto']).toBe('http');
  });
});

describe('certificates that cannot be loaded', () => {
  test('are skipped with one warning while the others are served, and a broken renewal keeps the name on its old one', async () => {
    const ca = testCa();
    const warnings: { msg: string; hostname?: string }[] = [];
    const log = createLogger('warn', (l) => void warnings.push(JSON.parse(l)));
    const good = ca.issue(['shop.example.test']);
    const other = ca.issue(['blog.example.test']);
    const broken = { ...ca.issue(['bad.example.test']), certPem: '-----BEGIN CERTIFICATE-----\nnot base64\n' };
    const mismatched = { ...ca.issue(['odd.example.test']), keyPem: other.keyPem };
    const { edge, httpsPort } = startTlsEdge(
      { routes: [route('web', namedUpstream('web'))], certificates: [good, broken, mismatched] },
      { log },
    );
    expect(warnings.map((w) => [w.msg, w.hostname])).toEqual([
      ['Skipping a certificate the edge cannot load', 'bad.example.test'],
      ['Skipping a certificate the edge cannot load', 'odd.example.test'],
    ]);
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(good.serial);
    await expect(handshake(httpsPort, 'bad.example.test', ca.caPem)).rejects.toThrow();
    await expect(handshake(httpsPort, 'odd.example.test', ca.caPem)).rejects.toThrow();

    // The same broken PEM again is not reported again; a broken renewal of a working name is, once.
    edge.apply({ routes: [], certificates: [{ ...good, keyPem: other.keyPem }, broken, mismatched] });
    edge.apply({ routes: [], certificates: [{ ...good, keyPem: other.keyPem }, broken, mismatched] });
    expect(warnings.map((w) => w.hostname)).toEqual(['bad.example.test', 'odd.example.test', 'shop.example.test']);
    expect((await handshake(httpsPort, 'shop.example.test', ca.caPem)).serial).toBe(good.serial);
  });

  test('a context is built once per certificate and again only when its PEM changes', () => {
    const ca = testCa();
    const store = new CertificateStore();
    const first = ca.issue(['shop.example.test']);
    store.update([first]);
    const context = store.contextFor('shop.example.test');
    store.update([{ ...first, notAfter: new Date().toISOString() }, ca.issue(['blog.example.test'])]);
    expect(store.contextFor('SHOP.example.test.')).toBe(context!);
    store.update([ca.issue(['shop.example.test'])]);
    expect(store.contextFor('shop.example.test')).not.toBe(context!);
    expect(store.covers('blog.example.test')).toBe(false);
    store.update([]);
    expect(store.covers('shop.example.test')).toBe(false);
  });
});
