import { describe, expect, test } from 'bun:test';
import { ConfigError, DEFAULT_IMAGES, loadConfig, SETTINGS } from '../../src/config.ts';

describe('configuration', () => {
  test('domain and certificate settings are parsed and checked', () => {
    const c = loadConfig({
      SLIPWAY_ACME_DIRECTORY: 'https://localhost:14000/dir',
      SLIPWAY_ACME_EMAIL: 'ops@example.com',
      SLIPWAY_DNS_SERVERS: '127.0.0.1:8053, ::1,[::1]:5353, 10.0.0.2',
      SLIPWAY_PUBLIC_IPS: '203.0.113.7,2001:db8::7',
      SLIPWAY_API_DOMAIN: 'Slipway.Example.com',
    });
    expect(c.acmeDirectory).toBe('https://localhost:14000/dir');
    expect(c.dnsServers).toEqual(['127.0.0.1:8053', '[::1]:53', '[::1]:5353', '10.0.0.2:53']);
    expect(c.publicIps).toEqual(['203.0.113.7', '2001:db8::7']);
    expect(c.apiDomain).toBe('slipway.example.com');
    expect(loadConfig({ SLIPWAY_ACME_DIRECTORY: 'off' }).acmeDirectory).toBeNull();
    const bad = () =>
      loadConfig({
        SLIPWAY_ACME_DIRECTORY: 'http://ca.example/dir',
        SLIPWAY_ACME_EMAIL: 'nobody',
        SLIPWAY_DNS_SERVERS: 'dns.example:53',
        SLIPWAY_PUBLIC_IPS: '1.2.3',
      });
    expect(bad).toThrow(ConfigError);
    try {
      bad();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'SLIPWAY_ACME_DIRECTORY="http://ca.example/dir": expected an https:// URL, or off',
        'SLIPWAY_ACME_EMAIL="nobody": expected an e-mail address',
        'SLIPWAY_DNS_SERVERS="dns.example:53": "dns.example:53" is not an address such as 127.0.0.1:53 or [::1]:53',
        'SLIPWAY_PUBLIC_IPS="1.2.3": "1.2.3" is not an IPv4 or IPv6 address',
      ]);
    }
  });

  test('the defaults are those of the design', () => {
    expect(loadConfig({})).toEqual({
      dataDir: './data',
      apiListen: { hostname: '127.0.0.1', port: 7070 },
      httpListen: { hostname: '0.0.0.0', port: 8080 },
      httpsListen: null,
      baseDomain: 'localhost',
      trustedProxies: [],
      acmeDirectory: 'https://acme-v02.api.letsencrypt.org/directory',
      acmeEmail: null,
      acmeCaFile: null,
      dnsServers: [],
      publicIps: [],
      apiDomain: null,
      maxUploadBytes: 512 * 1024 * 1024,
      rateLimitToken: 300,
      rateLimitIp: 30,
      dockerHost: null,
      logLevel: 'info',
      images: DEFAULT_IMAGES,
      buildTimeoutSeconds: 900,
      buildMemoryMb: 2048,
      buildConcurrency: 2,
      buildCpus: 1,
      buildPidsLimit: 2048,
      buildAllowPrivate: false,
      sourceRetention: 10,
      releaseRetention: 5,
      deploymentRetention: 100,
      drainTimeoutSeconds: 30,
      reconcileIntervalSeconds: 30,
      role: 'all',
      masterKey: null,
      credentialsDirectory: null,
      maxArchiveEntries: 20000,
      maxExpandedBytes: 1024 ** 3,
      backupDir: null,
      backupSchedule: { kind: 'off' },
      backupRetention: { last: 0, hourly: 0, daily: 7, weekly: 4 },
      backupDestination: 'local',
      backupS3: null,
      backupS3Endpoint: null,
      backupS3Region: 'us-east-1',
      backupS3AccessKeyId: null,
      backupS3SecretAccessKey: null,
      backupPassphrase: null,
      pullMaxBytes: 4294967296,
      pullTimeoutSeconds: 900,
      webhookAllowPrivate: false,
      consoleSessionSeconds: 43200,
      execIdleTimeoutSeconds: 900,
      execMaxSessions: 4,
      edgeEngine: 'native',
      runtime: 'docker',
      swarmRegistry: null,
      projectSubnets: { base: 0xac100000, prefix: 12 },
      apiEngine: 'native',
      edgeTlsAdmission: 5,
    });
  });

  test('each base image has its own env var and a bad reference is refused', () => {
    const c = loadConfig({
      SLIPWAY_IMAGE_NODE: 'slipway-fixture/node:latest',
      SLIPWAY_IMAGE_STATIC: 'slipway-fixture/static:latest',
    });
    expect(c.images).toEqual({
      ...DEFAULT_IMAGES,
      node: 'slipway-fixture/node:latest',
      static: 'slipway-fixture/static:latest',
    });
    expect(() => loadConfig({ SLIPWAY_IMAGE_GO: 'bad image; rm -rf /' })).toThrow(
      'SLIPWAY_IMAGE_GO="bad image; rm -rf /": expected an image reference such as node:22-alpine',
    );
  });

  test('env vars override defaults and flags override env vars', () => {
    const c = loadConfig(
      { SLIPWAY_API_LISTEN: '0.0.0.0:9000', SLIPWAY_HTTP_LISTEN: ':80', SLIPWAY_BASE_DOMAIN: 'Apps.Example.com' },
      { 'api-listen': '[::1]:7071' },
    );
    expect(c.apiListen).toEqual({ hostname: '::1', port: 7071 });
    expect(c.httpListen).toEqual({ hostname: '0.0.0.0', port: 80 });
    expect(c.baseDomain).toBe('apps.example.com');
  });

  test('bad values are all reported at once, each naming its source', () => {
    let err: unknown;
    try {
      loadConfig(
        { SLIPWAY_HTTP_LISTEN: 'localhost', SLIPWAY_MAX_UPLOAD_BYTES: '-1' },
        { 'api-listen': '127.0.0.1:abc', 'base-domain': 'bad_domain' },
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      '--api-listen="127.0.0.1:abc": port "abc" is not a number from 0 to 65535',
      'SLIPWAY_HTTP_LISTEN="localhost": expected HOST:PORT, for example 127.0.0.1:7070 or :80',
      '--base-domain="bad_domain": expected a DNS name such as localhost or apps.example.com',
      'SLIPWAY_MAX_UPLOAD_BYTES="-1": expected a whole number from 1 to 9007199254740991',
    ]);
  });

  test('a port above 65535 is refused', () => {
    expect(() => loadConfig({ SLIPWAY_API_LISTEN: '127.0.0.1:70000' })).toThrow(
      'port 70000 is not a number from 0 to 65535',
    );
  });

  test('build limits and private egress are read and checked', () => {
    const c = loadConfig(
      { SLIPWAY_BUILD_ALLOW_PRIVATE: 'true', SLIPWAY_BUILD_CPUS: '1.5' },
      { 'build-pids-limit': '512' },
    );
    expect([c.buildAllowPrivate, c.buildCpus, c.buildPidsLimit]).toEqual([true, 1.5, 512]);
    let err: unknown;
    try {
      loadConfig({ SLIPWAY_BUILD_ALLOW_PRIVATE: 'yes', SLIPWAY_BUILD_CPUS: '0', SLIPWAY_BUILD_PIDS_LIMIT: '8' });
    } catch (e) {
      err = e;
    }
    expect((err as ConfigError).problems).toEqual([
      'SLIPWAY_BUILD_CPUS="0": expected a number from 0.01 to 1024',
      'SLIPWAY_BUILD_PIDS_LIMIT="8": expected a whole number from 16 to 4194304',
      'SLIPWAY_BUILD_ALLOW_PRIVATE="yes": expected true or false',
    ]);
  });

  test('project networks take /24s of 172.16.0.0/12 unless told another range, or docker to leave it to the engine', () => {
    expect(loadConfig({ SLIPWAY_PROJECT_SUBNETS: '10.77.0.0/16' }).projectSubnets).toEqual({
      base: (10 * 256 + 77) * 65536,
      prefix: 16,
    });
    expect(loadConfig({}, { 'project-subnets': 'docker' }).projectSubnets).toBeNull();
    for (const bad of ['10.77.0.0/25', '10.300.0.0/16', 'fd00::/64', 'auto']) {
      expect(() => loadConfig({ SLIPWAY_PROJECT_SUBNETS: bad })).toThrow(
        `SLIPWAY_PROJECT_SUBNETS="${bad}": expected an IPv4 range of /24 or larger, such as 172.16.0.0/12, or docker`,
      );
    }
  });

  test('HTTPS is off unless an address is given', () => {
    expect(loadConfig({ SLIPWAY_HTTPS_LISTEN: ':443' }).httpsListen).toEqual({ hostname: '0.0.0.0', port: 443 });
  });

  test('trusted proxies are a comma-separated list of IPv4 and IPv6 CIDRs, bare addresses being one host', () => {
    const c = loadConfig({ SLIPWAY_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7' }, { 'trusted-proxies': 'fd00::/8,::1' });
    expect(c.trustedProxies.map((p) => [p.text, p.prefix])).toEqual([
      ['fd00::/8', 8],
      ['::1', 128],
    ]);
    expect(
      loadConfig({ SLIPWAY_TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7' }).trustedProxies.map((p) => p.prefix),
    ).toEqual([104, 128]);
  });

  test('a bad trusted proxy entry is refused with the entry named', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      return [];
    };
    expect(problems({ SLIPWAY_TRUSTED_PROXIES: '10.0.0.0/8,10.0.0.0/33' })).toEqual([
      'SLIPWAY_TRUSTED_PROXIES="10.0.0.0/8,10.0.0.0/33": "10.0.0.0/33" is not a CIDR such as 10.0.0.0/8 or fd00::/8',
    ]);
    for (const bad of [
      'example.com',
      '10.0.0/8',
      '10.0.0.0/',
      '10.0.0.0/8/8',
      '::1/129',
      'fe80::1%eth0',
      '1.2.3.4/-1',
    ]) {
      expect(problems({ SLIPWAY_TRUSTED_PROXIES: bad })).toEqual([
        `SLIPWAY_TRUSTED_PROXIES=${JSON.stringify(bad)}: "${bad}" is not a CIDR such as 10.0.0.0/8 or fd00::/8`,
      ]);
    }
    expect(problems({ SLIPWAY_TRUSTED_PROXIES: '10.1.0.0/8' })).toEqual([
      'SLIPWAY_TRUSTED_PROXIES="10.1.0.0/8": "10.1.0.0/8" has bits set past its /8 prefix',
    ]);
  });

  test('backup settings: a schedule, a retention and an S3 URL are parsed, bad ones refused', () => {
    const c = loadConfig({
      SLIPWAY_BACKUP_SCHEDULE: 'daily@03:00',
      SLIPWAY_BACKUP_RETENTION: 'last=3,weekly=2',
      SLIPWAY_BACKUP_S3_URL: 's3://my-bucket/slipway/host1/',
    });
    expect(c.backupSchedule).toEqual({ kind: 'daily', hour: 3, minute: 0 });
    expect(c.backupRetention).toEqual({ last: 3, hourly: 0, daily: 0, weekly: 2 });
    expect(c.backupS3).toEqual({ bucket: 'my-bucket', prefix: 'slipway/host1' });
    expect(() =>
      loadConfig({
        SLIPWAY_BACKUP_SCHEDULE: 'daily@25:00',
        SLIPWAY_BACKUP_RETENTION: 'daily=0',
        SLIPWAY_BACKUP_S3_URL: 'https://bucket',
        SLIPWAY_BACKUP_PASSPHRASE: 'short',
      }),
    ).toThrow(
      [
        'Invalid configuration:',
        '  - SLIPWAY_BACKUP_SCHEDULE="daily@25:00": expected off, daily@HH:MM, hourly@MM or every <n>s|m|h (UTC), e.g. daily@03:00',
        '  - SLIPWAY_BACKUP_RETENTION="daily=0": keeps nothing: give at least one count above 0',
        '  - SLIPWAY_BACKUP_S3_URL="https://bucket": expected s3://bucket or s3://bucket/prefix',
        '  - SLIPWAY_BACKUP_PASSPHRASE=(hidden): expected at least 12 characters',
      ].join('\n'),
    );
  });

  test('every setting of the design has an env var and a flag', () => {
    const envs = SETTINGS.map((s) => s.env);
    for (const env of [
      'SLIPWAY_DATA_DIR',
      'SLIPWAY_API_LISTEN',
      'SLIPWAY_HTTP_LISTEN',
      'SLIPWAY_HTTPS_LISTEN',
      'SLIPWAY_BASE_DOMAIN',
      'SLIPWAY_MAX_UPLOAD_BYTES',
    ]) {
      expect(envs).toContain(env);
    }
    // Secrets get no flag: a flag would show the key in `ps` and shell history.
    const envOnly = [
      'masterKey',
      'credentialsDirectory',
      'backupS3AccessKeyId',
      'backupS3SecretAccessKey',
      'backupPassphrase',
    ];
    for (const s of SETTINGS) {
      if (envOnly.includes(s.key)) expect(s.flag).toBeNull();
      else expect(s.flag).toMatch(/^[a-z][a-z0-9-]+$/);
    }
  });
});
