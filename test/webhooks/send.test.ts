import { afterAll, describe, expect, test } from 'bun:test';
import tls from 'node:tls';
import { send } from '../../src/webhooks/send.ts';
import { makeCertificate } from '../certificates/helpers.ts';

const made = await makeCertificate(['hooks.test']);
const context = tls.createSecureContext({ cert: made.certificate, key: made.privateKey });
const names: (string | undefined)[] = [];
let plaintextSeen = false;
const server = tls.createServer(
  {
    ...{ cert: made.certificate, key: made.privateKey },
    SNICallback: (name, cb) => {
      names.push(name);
      cb(null, context);
    },
  },
  (socket) => {
    socket.on('data', () => {
      plaintextSeen = true;
    });
  },
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;
afterAll(() => void server.close());

describe('an https attempt', () => {
  test("connects to the checked address, names the webhook's host for SNI, and checks its certificate", async () => {
    const result = await send({
      url: new URL(`https://hooks.test:${port}/hook`),
      address: { address: '127.0.0.1', family: 4 },
      headers: { 'content-type': 'application/json' },
      body: '{"secret":"payload"}',
      timeoutMs: 3000,
    });
    expect(names).toEqual(['hooks.test']);
    // A self-signed certificate is not trusted: the attempt fails before the body is sent.
    expect(result).toMatchObject({ ok: false, status_code: null });
    expect(result.error).toMatch(/certificate/);
    expect(plaintextSeen).toBe(false);
  });
});
