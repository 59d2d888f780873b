import { describe, expect, test } from 'bun:test';
import { parseCidrList, TrustedProxies } from '../../src/edge/trusted-proxies.ts';

const trusted = (list: string) => new TrustedProxies(parseCidrList(list));

describe('TrustedProxies', () => {
  const cases: [string, string, boolean][] = [
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.7', '192.0.2.8', false],
    ['172.16.0.0/12', '172.31.255.255', true],
    ['172.16.0.0/12', '172.32.0.0', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['fd00::/8', 'fd12:3456::1', true],
    ['fd00::/8', 'fe80::1', false],
    ['2001:db8:0:0:1::/80', '2001:db8::1:0:0:1', true],
    ['2001:db8:0:0:1::/80', '2001:db8::2:0:0:1', false],
    ['::1', '::1', true],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['fe80::/10', 'fe80::1%eth0', true],
    ['::ffff:0:0/96', '127.0.0.1', true],
    ['10.0.0.0/8', 'not an address', false],
    ['10.0.0.0/8', '', false],
    ['', '10.0.0.1', false],
  ];
  test.each(cases)('%s trusts %s: %p', (list, ip, expected) => {
    expect(trusted(list).trusts(ip)).toBe(expected);
  });
});
