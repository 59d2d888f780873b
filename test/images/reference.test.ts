import { describe, expect, test } from 'bun:test';
import { isPrivateHost, parseImageReference, registryHost } from '../../src/images/reference.ts';
import { PullProgress } from '../../src/images/pull-progress.ts';

describe('image references', () => {
  const canonical: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['team/app', 'docker.io/team/app:latest'],
    ['registry.example.com/team/app:1.4', 'registry.example.com/team/app:1.4'],
    ['Registry.Example.com:5000/a/b/c:v1_2.3-rc', 'registry.example.com:5000/a/b/c:v1_2.3-rc'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    [`ghcr.io/o/app@sha256:${'0'.repeat(64)}`, `ghcr.io/o/app@sha256:${'0'.repeat(64)}`],
    [`ghcr.io/o/app:1@sha256:${'1'.repeat(64)}`, `ghcr.io/o/app@sha256:${'1'.repeat(64)}`],
  ];
  for (const [ref, expected] of canonical) {
    test(`makes "${ref}" explicit as ${expected}`, () => {
      expect(parseImageReference(ref).canonical).toBe(expected);
    });
  }

  test('a release image is refused by any spelling of Docker Hub, and in any registry (the cluster registry)', () => {
    for (const ref of [
      'slipway/web:1-abc',
      'docker.io/slipway/web:1',
      'index.docker.io/slipway/web',
      `10.77.0.1:5077/slipway/web@sha256:${'a'.repeat(64)}`,
      'registry.example.com/slipway/web:1',
    ]) {
      expect(() => parseImageReference(ref)).toThrow("names one of Slipway's own release images");
    }
  });

  test('loopback, private, link-local and multicast hosts are private; public names and addresses are not', () => {
    const privateHosts = [
      'localhost:5000',
      'a.localhost',
      '127.0.0.2',
      '10.0.0.1:80',
      '172.16.3.4',
      '172.31.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '[::1]:5000',
      '[fd00::1]',
      '[fe80::1]',
      '[::ffff:127.0.0.1]',
    ];
    for (const host of privateHosts) expect({ host, private: isPrivateHost(host) }).toEqual({ host, private: true });
    for (const host of ['registry.example.com', '172.32.0.1', '8.8.8.8:5000', 'docker.io', '[2001:db8::1]'])
      expect({ host, private: isPrivateHost(host) }).toEqual({ host, private: false });
  });

  test("a registry host is lowercased and Docker Hub's other names become docker.io", () => {
    expect(registryHost('Registry.Example.COM:443')).toBe('registry.example.com:443');
    expect(registryHost('index.docker.io')).toBe('docker.io');
    expect(registryHost('registry-1.docker.io')).toBe('docker.io');
    expect(() => registryHost('host:0')).toThrow('must be a registry host name');
  });
});

describe('pull progress', () => {
  test('logs each layer state once and its download in quarter steps, and adds up the announced sizes', () => {
    const lines: string[] = [];
    const p = new PullProgress((l) => lines.push(l));
    p.take({ status: 'Pulling from team/app', id: '1.4' });
    p.take({ status: 'Pulling fs layer', id: 'aaa' });
    p.take({ status: 'Waiting', id: 'aaa' });
    for (const current of [0, 100, 260_000, 300_000, 600_000, 900_000, 1_000_000])
      p.take({ status: 'Downloading', id: 'aaa', progressDetail: { current, total: 1_000_000 } });
    p.take({ status: 'Downloading', id: 'bbb', progressDetail: { current: 1, total: 500 } });
    p.take({ status: 'Extracting', id: 'aaa', progressDetail: { current: 5, total: 10 } });
    p.take({ status: 'Pull complete', id: 'aaa' });
    p.take({ status: 'Pull complete', id: 'aaa' });
    p.take({ status: 'Digest: sha256:abc' });
    expect(lines).toEqual([
      '1.4: Pulling from team/app',
      'aaa: Pulling fs layer',
      'aaa: Downloading 0.0 MB of 1.0 MB',
      'aaa: Downloading 0.3 MB of 1.0 MB',
      'aaa: Downloading 0.6 MB of 1.0 MB',
      'aaa: Downloading 0.9 MB of 1.0 MB',
      'aaa: Downloading 1.0 MB of 1.0 MB',
      'bbb: Downloading 0.0 MB of 0.0 MB',
      'aaa: Pull complete',
      'Digest: sha256:abc',
    ]);
    expect(p.announcedBytes).toBe(1_000_500);
  });

  test("keeps the engine's error", () => {
    const lines: string[] = [];
    const p = new PullProgress((l) => lines.push(l));
    p.take({ error: 'x', errorDetail: { message: 'manifest unknown' } });
    expect(p.error).toBe('manifest unknown');
    expect(lines).toEqual(['Pull failed: manifest unknown']);
  });
});
