import { describe, expect, test } from 'bun:test';
import { clientIp } from '../../src/api/client-ip.ts';

const headers = (h: Record<string, string>) => new Headers(h);

describe('the client address of an API request', () => {
  test('is the address the edge forwards when the peer is loopback', () => {
    expect(clientIp('127.0.0.1', headers({ 'x-real-ip': '203.0.113.9' }))).toBe('203.0.113.9');
    expect(clientIp('::1', headers({ 'x-real-ip': '2001:db8::9' }))).toBe('2001:db8::9');
    expect(clientIp('::ffff:127.0.0.1', headers({ 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }))).toBe(
      '203.0.113.9',
    );
  });

  test('is the peer for anyone else, whatever they send', () => {
    for (const peer of ['203.0.113.9', '172.17.0.2', '::ffff:10.0.0.1', '2001:db8::1']) {
      expect(clientIp(peer, headers({ 'x-real-ip': '198.51.100.1', 'x-forwarded-for': '198.51.100.2' }))).toBe(peer);
    }
  });

  test('is the peer when the forwarded address is missing or not an address', () => {
    expect(clientIp('127.0.0.1', headers({}))).toBe('127.0.0.1');
    expect(clientIp('127.0.0.1', headers({ 'x-real-ip': 'unknown' }))).toBe('127.0.0.1');
    expect(clientIp(undefined, headers({ 'x-real-ip': '203.0.113.9' }))).toBeUndefined();
  });
});
