import { describe, expect, test } from 'bun:test';
import * as net from 'node:net';
import { isIP, isIPv4, isIPv6 } from '../src/ip.ts';

/** Addresses and near misses of every shape the edge, the config and the API check. */
const CORPUS = [
  '',
  '1.2.3.4',
  '0.0.0.0',
  '255.255.255.255',
  '256.1.1.1',
  '01.2.3.4',
  '1.2.3',
  '1.2.3.4.5',
  '1.2.3.4 ',
  ' 1.2.3.4',
  '1.2.3.4\n',
  '1..3.4',
  '1.2.3.-4',
  '1.2.3.4/8',
  '１.2.3.4',
  '::',
  '::1',
  ':::',
  '1::',
  '1::2::3',
  'FE80::A',
  'fe80::1%eth0',
  'fe80::1%',
  'fe80::%1',
  'fe80::1%eth0.5:x',
  'fe80::1%eth 0',
  '::ffff:1.2.3.4',
  '::ffff:01.2.3.4',
  '::ffff:256.2.3.4',
  '::1.2.3.4',
  '1:2:3:4:5:6:1.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4',
  '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7:8:9',
  '1:2:3:4:5:6:7::',
  '::2:3:4:5:6:7:8',
  '12345::1',
  'g::1',
  '[::1]',
  '[::1]:80',
  '::1\n',
  'localhost',
  '2001:db8::/32',
];

/** Strings drawn from the characters addresses are made of, of random lengths and shapes. */
function randomCandidates(count: number): string[] {
  const alphabets = ['0123456789.', '0123456789abcdefABCDEF:', '0123456789abcdef:.%ez', '0123456789.: \n[]/-'];
  let seed = 0x2545f491;
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    const alphabet = alphabets[Math.floor(next() * alphabets.length)]!;
    const length = Math.floor(next() * 24);
    return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
  });
}

/** Valid addresses, so that the random part is not all refusals: mutations of real ones. */
function mutatedAddresses(count: number): string[] {
  const bases = [
    '10.0.0.1',
    '192.168.1.254',
    '2001:db8::8a2e:370:7334',
    'fe80::1%eth0',
    '::ffff:10.1.2.3',
    '1:0:0:0:0:0:0:8',
  ];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length]!;
    const at = (i * 7) % (base.length + 1);
    const insert = '0:.f%'[i % 5]!;
    out.push(base, base.slice(0, at) + insert + base.slice(at), base.slice(0, at) + base.slice(at + 1));
  }
  return out;
}

describe('IP address checks without node:net', () => {
  test("agree with node:net's isIP, isIPv4 and isIPv6 on every case of the corpus", () => {
    for (const s of CORPUS) {
      expect({ s, ip: isIP(s), v4: isIPv4(s), v6: isIPv6(s) }).toEqual({
        s,
        ip: net.isIP(s) as 0 | 4 | 6,
        v4: net.isIPv4(s),
        v6: net.isIPv6(s),
      });
    }
  });

  test('agree with node:net on 20,000 random strings and mutated addresses, valid ones among them', () => {
    const cases = [...randomCandidates(20_000), ...mutatedAddresses(600)];
    const disagreements = cases.filter((s) => isIP(s) !== net.isIP(s) || isIPv6(s) !== net.isIPv6(s));
    expect(disagreements).toEqual([]);
    // The comparison covered both answers, not only refusals.
    expect(cases.filter((s) => isIP(s) === 4).length).toBeGreaterThan(50);
    expect(cases.filter((s) => isIP(s) === 6).length).toBeGreaterThan(50);
  });

  test('accept the usual addresses and refuse a host name, a port or brackets', () => {
    expect(isIP('127.0.0.1')).toBe(4);
    expect(isIP('::1')).toBe(6);
    expect(isIP('fe80::1%eth0')).toBe(6);
    expect(isIP('localhost')).toBe(0);
    expect(isIP('127.0.0.1:80')).toBe(0);
    expect(isIP('[::1]')).toBe(0);
  });
});
