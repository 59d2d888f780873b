import { describe, expect, test } from 'bun:test';
import { normalizeHost, RouteTable } from '../../src/edge/route-table.ts';
import { TargetRegistry } from '../../src/edge/target.ts';

describe('normalizeHost', () => {
  test('lowercases and drops the port and a trailing dot', () => {
    expect(normalizeHost('Web.LocalHost:8080')).toBe('web.localhost');
    expect(normalizeHost('example.com.')).toBe('example.com');
    expect(normalizeHost(' example.com ')).toBe('example.com');
  });

  test('keeps the brackets of an IPv6 literal and drops its port', () => {
    expect(normalizeHost('[::1]:8080')).toBe('[::1]');
    expect(normalizeHost('[::1]')).toBe('[::1]');
  });
});

describe('RouteTable', () => {
  test('finds nothing for a missing Host header or the bare base domain', () => {
    const table = new RouteTable([{ project: 'web', hostnames: [], targets: ['127.0.0.1:1'] }], 'localhost');
    expect(table.lookup(null)).toBeUndefined();
    expect(table.lookup('localhost')).toBeUndefined();
    expect(table.lookup('web.localhost')?.project).toBe('web');
  });

  test('lets a project keep its own address when another claims it as a custom hostname', () => {
    const warnings: object[] = [];
    const table = new RouteTable(
      [
        { project: 'web', hostnames: ['api.localhost', 'shared.example'], targets: [] },
        { project: 'api', hostnames: ['Shared.Example'], targets: [] },
      ],
      'localhost',
      (_msg, fields) => void warnings.push(fields ?? {}),
    );
    expect(table.lookup('api.localhost')?.project).toBe('api');
    expect(table.lookup('shared.example')?.project).toBe('web');
    expect(warnings).toEqual([
      { hostname: 'api.localhost', project: 'api', ignored: 'web' },
      { hostname: 'shared.example', project: 'web', ignored: 'api' },
    ]);
  });

  test("routes host entries to their project, after every project's own address and before routes' own hostnames", () => {
    const warnings: object[] = [];
    const host = (hostname: string, project: string) => ({ hostname, project, redirectToHttps: true, hsts: false });
    const table = new RouteTable(
      [
        { project: 'web', hostnames: ['Shop.Example'], targets: [] },
        { project: 'api', hostnames: [], targets: [] },
      ],
      'localhost',
      (_msg, fields) => void warnings.push(fields ?? {}),
      [
        host('shop.example', 'api'),
        host('api.localhost', 'web'),
        host('web.localhost', 'web'),
        host('x.example', 'gone'),
      ],
    );
    expect(table.lookup('shop.example')?.project).toBe('api');
    expect(table.hostEntry('shop.example')?.project).toBe('api');
    expect(table.lookup('api.localhost')?.project).toBe('api');
    expect(table.hostEntry('api.localhost')).toBeUndefined();
    expect(table.lookup('web.localhost')?.project).toBe('web');
    // A project without a route: nothing to route to, but its host name keeps its settings.
    expect(table.lookup('x.example')).toBeUndefined();
    expect(table.hostEntry('x.example')?.project).toBe('gone');
    expect(warnings).toEqual([
      { hostname: 'api.localhost', ignored: 'web' },
      { hostname: 'shop.example', project: 'api', ignored: 'web' },
    ]);
  });

  test('picks targets round robin and ignores duplicates', () => {
    const table = new RouteTable([{ project: 'web', hostnames: [], targets: ['a:1', 'b:2', 'a:1'] }]);
    const entry = table.lookup('web.localhost')!;
    expect([entry.pick(), entry.pick(), entry.pick()]).toEqual(['a:1', 'b:2', 'a:1']);
    expect(table.targets()).toEqual(new Set(['a:1', 'b:2']));
  });

  test('has no target to pick for a project without instances', () => {
    const table = new RouteTable([{ project: 'web', hostnames: [], targets: [] }]);
    expect(table.lookup('web.localhost')!.pick()).toBeUndefined();
  });
});

describe('TargetRegistry', () => {
  test('drains removed targets and forgets them once their last exchange ends', () => {
    const registry = new TargetRegistry();
    registry.sync(new Set(['a:1', 'b:2']));
    const end = registry.find('a:1')!.begin({ cut() {} });
    expect(registry.sync(new Set(['b:2']))).toEqual(['a:1']);
    expect(registry.find('a:1')!.draining).toBe(true);
    expect(registry.sync(new Set(['b:2']))).toEqual([]);
    end();
    end();
    expect(registry.find('a:1')).toBeUndefined();
  });

  test('forgets an idle removed target at once and knows it again when it returns', () => {
    const registry = new TargetRegistry();
    registry.sync(new Set(['a:1']));
    registry.sync(new Set());
    expect(registry.find('a:1')).toBeUndefined();
    registry.sync(new Set(['a:1']));
    expect(registry.find('a:1')!.draining).toBe(false);
  });
});
