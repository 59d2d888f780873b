import { afterAll, describe, expect, test } from 'bun:test';
import {
  checkDestination,
  DestinationRefused,
  isSpecialAddress,
  parseWebhookUrl,
  unmapped,
} from '../../src/webhooks/destination.ts';
import type { CheckedAddress } from '../../src/webhooks/destination.ts';
import { errorOf, makeTestApp, TEST_ACTOR } from '../helpers/app.ts';
import { queueDeployment } from '../helpers/deployments.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const policy = (over: Partial<Parameters<typeof checkDestination>[1]> = {}) => ({
  allowPrivate: false,
  ownAddresses: () => ['203.0.114.7'],
  ...over,
});
const resolvesTo =
  (...ips: string[]) =>
  async (): Promise<CheckedAddress[]> =>
    ips.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as CheckedAddress);

describe('which addresses a webhook may reach', () => {
  const refused = [
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.17.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a00:1',
    '::127.0.0.1',
    'fe80::1',
    'fd00::1',
    'ff02::1',
    '64:ff9b::a00:1',
    '2002:a00:1::',
  ];
  test.each(refused)('%s is refused', (ip) => expect(isSpecialAddress(ip)).toBe(true));
  test.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is allowed', (ip) =>
    expect(isSpecialAddress(ip)).toBe(false),
  );
  test('IPv4-mapped spellings turn into the IPv4 address', () => {
    expect(unmapped('::ffff:7f00:1')).toBe('127.0.0.1');
    expect(unmapped('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(unmapped('2001:db8::1')).toBe('2001:db8::1');
  });
});

describe('checking a webhook URL', () => {
  const bad: [string, string][] = [
    ['ftp://example.com/x', 'only http:// and https:// URLs are allowed'],
    ['https://user:pw@example.com/x', 'credentials in the URL are not allowed'],
    ['not a url', 'it is not a URL'],
    [`https://example.com/${'a'.repeat(2100)}`, 'the URL is longer than 2,048 characters'],
  ];
  test.each(bad)('%s is refused: %s', (url, message) => {
    expect(() => parseWebhookUrl(url)).toThrow(new DestinationRefused(message));
  });

  test('a name with one private address among public ones is refused', async () => {
    const url = new URL('https://hooks.example.com/x');
    await expect(checkDestination(url, policy({ resolve: resolvesTo('93.184.216.34', '10.0.0.5') }))).rejects.toThrow(
      'hooks.example.com resolves to a loopback, private, link-local or reserved address',
    );
  });

  test("the agent's own public address is refused", async () => {
    const url = new URL('https://me.example.com/x');
    await expect(checkDestination(url, policy({ resolve: resolvesTo('203.0.114.7') }))).rejects.toThrow(
      'me.example.com resolves to an address of this agent',
    );
    await expect(checkDestination(new URL('http://[::ffff:203.0.114.7]/'), policy())).rejects.toThrow(
      'resolves to an address of this agent',
    );
  });

  test('a public name passes and the address to connect to is the one checked', async () => {
    const got = await checkDestination(new URL('https://ok.example.com/'), policy({ resolve: resolvesTo('1.1.1.1') }));
    expect(got).toEqual({ address: '1.1.1.1', family: 4 });
  });

  test('SLIPWAY_WEBHOOK_ALLOW_PRIVATE lets loopback through', async () => {
    const got = await checkDestination(new URL('http://127.0.0.1:9/'), policy({ allowPrivate: true }));
    expect(got.address).toBe('127.0.0.1');
  });
});

describe('the refusal through the API and at delivery', () => {
  // A resolver the test controls: hooks.test resolves to whatever `answer` says at the time.
  let answer = ['93.184.216.34'];
  const t = makeTestApp(
    {},
    {
      webhooks: {
        delivery: { firstRetryMs: 30, maxRetryMs: 60, timeoutMs: 500, pollMs: 20 },
        resolve: async (host) => {
          if (host !== 'hooks.test') throw new Error('no such name');
          return answer.map((address) => ({ address, family: 4 as const }));
        },
      },
    },
  );
  t.deps.projects.create(TEST_ACTOR, { name: 'web' });
  const receiver: Receiver = startReceiver();
  afterAll(async () => {
    receiver.stop();
    await t.deps.webhookWorker.stop();
    t.close();
  });

  test('a loopback or private URL is refused with 422 when private addresses are not allowed', async () => {
    for (const url of [
      receiver.url,
      'http://[::1]:8080/',
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost:7070/v1/tokens',
    ]) {
      const res = await t.req('POST', '/v1/webhooks', { body: { url, events: ['deployment.live'] } });
      expect(res.status).toBe(422);
      const error = await errorOf(res);
      expect(error.code).toBe('validation_error');
      expect(error.message).toStartWith('Cannot add the webhook: ');
      expect(error.issues).toEqual([{ path: '/url', message: expect.any(String) }]);
    }
    const list = (await (await t.req('GET', '/v1/webhooks')).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  test('a name that resolves to loopback at delivery time (DNS rebinding) is never contacted', async () => {
    answer = ['93.184.216.34'];
    const res = await t.req('POST', '/v1/webhooks', {
      body: { url: `http://hooks.test:${receiver.port}/hook`, events: ['deployment.queued'] },
    });
    expect(res.status).toBe(201);
    const hook = (await res.json()) as { id: string };
    answer = ['127.0.0.1'];
    queueDeployment(t.deps, 'web');
    t.deps.webhookWorker.start();
    const deadline = Date.now() + 5000;
    let d: { attempts: number; error: string | null; status: string } | undefined;
    while (Date.now() < deadline) {
      d = ((await (await t.req('GET', `/v1/webhooks/${hook.id}/deliveries`)).json()) as { data: (typeof d)[] }).data[0];
      if ((d?.attempts ?? 0) >= 2) break;
      await Bun.sleep(20);
    }
    expect(d!.status).toBe('pending');
    // 127.0.0.1 is on the agent's own loopback interface: refused as its own address.
    expect(d!.error).toBe('refused: hooks.test resolves to an address of this agent');
    expect(receiver.got).toHaveLength(0);
  });
});
