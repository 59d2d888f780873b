import { describe, expect, test } from 'bun:test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  firstFreeSubnet,
  formatIpv4Range,
  hostRoutes,
  overlaps,
  parseIpv4Range,
  parseRoutes,
  type Ipv4Range,
} from '../../src/runtime/subnets.ts';

const r = (text: string): Ipv4Range => parseIpv4Range(text)!;
const free = (pool: string, taken: string[], skip: string[] = []) => {
  const found = firstFreeSubnet(r(pool), taken.map(r), skip.map(r));
  return found && formatIpv4Range(found);
};

/** /proc/net/route as this kernel writes it: a header, then one route per line, hex little-endian. */
const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
wg0\t00001FAC\t00000000\t0001\t0\t0\t0\t00F0FFFF\t0\t0\t0
`;

describe('project subnets', () => {
  test('ranges are read and written as a.b.c.d/n, the address rounded down to the prefix; anything else is not one', () => {
    expect(formatIpv4Range(r('172.16.0.0/12'))).toBe('172.16.0.0/12');
    expect(formatIpv4Range(r('10.1.2.3/16'))).toBe('10.1.0.0/16');
    expect(formatIpv4Range(r('255.255.255.255/32'))).toBe('255.255.255.255/32');
    for (const bad of ['10.0.0.256/8', '10.0.0.0/33', '10.0.0/8', 'fd00::/8', '10.0.0.0', ' /8'])
      expect(parseIpv4Range(bad)).toBeNull();
  });

  test('two ranges overlap when they share an address, whichever holds the other', () => {
    expect(overlaps(r('172.17.0.0/16'), r('172.17.3.0/24'))).toBe(true);
    expect(overlaps(r('172.17.3.0/24'), r('172.17.0.0/16'))).toBe(true);
    expect(overlaps(r('172.17.0.0/16'), r('172.18.0.0/24'))).toBe(false);
    expect(overlaps(r('10.0.0.0/24'), r('10.0.1.0/24'))).toBe(false);
  });

  test('the first /24 of the pool that overlaps nothing taken is chosen', () => {
    expect(free('172.16.0.0/12', [])).toBe('172.16.0.0/24');
    // The engine's docker0 and a /20 of its own pool, then two projects' /24s.
    const taken = ['172.16.0.0/16', '172.17.0.0/16', '172.18.0.0/20', '172.18.16.0/24', '172.18.17.0/24'];
    expect(free('172.16.0.0/12', taken)).toBe('172.18.18.0/24');
    expect(free('172.16.0.0/12', taken, ['172.18.18.0/24'])).toBe('172.18.19.0/24');
    // A range taken across the pool's start, and one larger than the pool.
    expect(free('10.8.0.0/16', ['10.0.0.0/13', '10.8.0.0/23'])).toBe('10.8.2.0/24');
    expect(free('10.8.0.0/16', ['10.0.0.0/8'])).toBeNull();
  });

  test('a full pool gives nothing, and a pool of one /24 gives that /24 once', () => {
    expect(free('10.9.9.0/24', [])).toBe('10.9.9.0/24');
    expect(free('10.9.9.0/24', ['10.9.9.128/25'])).toBeNull();
    const all = Array.from({ length: 256 }, (_, i) => `10.9.${i}.0/24`);
    expect(free('10.9.0.0/16', all)).toBeNull();
    expect(
      free(
        '10.9.0.0/16',
        all.filter((s) => s !== '10.9.200.0/24'),
      ),
    ).toBe('10.9.200.0/24');
  });

  test("the host's routes are read from /proc/net/route, its default route left out", () => {
    expect(parseRoutes(ROUTES).map(formatIpv4Range)).toEqual(['192.168.0.0/24', '172.17.0.0/16', '172.31.0.0/20']);
    // A VPN on 172.31.0.0/20 keeps project networks off it.
    expect(free('172.31.0.0/16', parseRoutes(ROUTES).map(formatIpv4Range))).toBe('172.31.16.0/24');
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    writeFileSync(join(dir, 'route'), ROUTES);
    expect(hostRoutes(join(dir, 'route'))).toHaveLength(3);
    expect(hostRoutes(join(dir, 'missing'))).toEqual([]);
  });
});
