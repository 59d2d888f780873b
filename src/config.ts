/**
 * One schema for every setting: its env var, its CLI flag, its default and its parser.
 * Nothing else in Slipway reads process.env; main.ts hands the environment in.
 */
import { isIP } from './ip.ts';
import { type Cidr, parseCidrList } from './edge/trusted-proxies.ts';
import { parseRegistryAddress, type RegistryAddress } from './runtime/swarm/registry-address.ts';
import { parseRetention, parseSchedule, type Retention, type Schedule } from './backups/schedule.ts';
import { type Ipv4Range, PROJECT_SUBNET_PREFIX, parseIpv4Range } from './runtime/subnets.ts';

/** A host and port to listen on; `port` 0 asks the OS for a free one. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

/** Every setting, parsed and validated. */
export interface Config {
  dataDir: string;
  apiListen: ListenAddress;
  httpListen: ListenAddress;
  httpsListen: ListenAddress | null;
  baseDomain: string;
  trustedProxies: Cidr[];
  /** The ACME server's directory URL, or null when certificates are never ordered (only uploaded). */
  acmeDirectory: string | null;
  acmeEmail: string | null;
  /** A PEM file of extra CAs trusted for the ACME server's own TLS (Pebble, a private CA). */
  acmeCaFile: string | null;
  /** Resolvers for domain checks, "host:port"; empty = the system resolver. */
  dnsServers: string[];
  /** The addresses a domain must point to; empty = detected from the host's interfaces. */
  publicIps: string[];
  /** A host name at which the edge serves the API over HTTPS, or null. */
  apiDomain: string | null;
  maxUploadBytes: number;
  rateLimitToken: number;
  rateLimitIp: number;
  dockerHost: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  images: BaseImages;
  buildTimeoutSeconds: number;
  buildMemoryMb: number;
  buildConcurrency: number;
  buildCpus: number;
  buildPidsLimit: number;
  buildAllowPrivate: boolean;
  sourceRetention: number;
  releaseRetention: number;
  deploymentRetention: number;
  drainTimeoutSeconds: number;
  reconcileIntervalSeconds: number;
  role: 'all' | 'api' | 'edge';
  masterKey: string | null;
  credentialsDirectory: string | null;
  maxArchiveEntries: number;
  maxExpandedBytes: number;
  /** Where local backups go; null: <data-dir>/backups. */
  backupDir: string | null;
  backupSchedule: Schedule;
  backupRetention: Retention;
  /** Where scheduled backups (and those that name none) go. */
  backupDestination: 'local' | 's3';
  /** The bucket and key prefix of the S3 destination, or null when none is configured. */
  backupS3: { bucket: string; prefix: string } | null;
  backupS3Endpoint: string | null;
  backupS3Region: string;
  backupS3AccessKeyId: string | null;
  backupS3SecretAccessKey: string | null;
  /** When set, backups are sealed with a key derived from it instead of the master key. */
  backupPassphrase: string | null;
  /** The largest prebuilt image a deployment may pull, download and unpacked, bytes. */
  pullMaxBytes: number;
  pullTimeoutSeconds: number;
  /** Whether webhooks may send to loopback, private and link-local addresses and the agent's own. */
  webhookAllowPrivate: boolean;
  /** How long a console session lasts after sign-in, in seconds (never past its token's expiry). */
  consoleSessionSeconds: number;
  /** Seconds an exec session may go without a frame either way. */
  execIdleTimeoutSeconds: number;
  /** Exec sessions one token may hold open at once. */
  execMaxSessions: number;
  /** The edge's HTTP/1.1 engine: its own (native) or node:http (node). */
  edgeEngine: 'native' | 'node';
  /** Where app instances run: this host's Docker engine, or the Swarm cluster it manages. */
  runtime: 'docker' | 'swarm';
  /** The registry the Swarm's nodes pull release images from, or null (no cluster registry). */
  swarmRegistry: RegistryAddress | null;
  /** The range project networks take their /24s from; null leaves the subnet to the engine. */
  projectSubnets: Ipv4Range | null;
  /** What listens on the API's port: Bun.serve itself, or the front that answers hot reads from bytes (src/api/front). */
  apiEngine: 'serve' | 'native';
  /** HTTPS handshake admission: at most this many native TLS handshakes at once, the rest over node:tls on a Duplex; null for off. */
  edgeTlsAdmission: number | null;
}

/** Base images of the generated Dockerfiles, one per detected stack. */
export interface BaseImages {
  static: string;
  node: string;
  bun: string;
  python: string;
  go: string;
  goRuntime: string;
  postgres: string;
}

/** Thrown by loadConfig with one line per bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

interface Setting<K extends keyof Config> {
  key: K;
  env: string;
  /** Long CLI flag without dashes, or null for env-only settings. */
  flag: string | null;
  default: string;
  description: string;
  parse: (raw: string) => Config[K];
}

const setting = <K extends keyof Config>(s: Setting<K>) => s;

/** The settings table (base images aside, see IMAGE_ENV); the README's configuration table mirrors it. */
export const SETTINGS = [
  setting({
    key: 'dataDir',
    env: 'SLIPWAY_DATA_DIR',
    flag: 'data-dir',
    default: './data',
    description: 'Directory for the SQLite database, the admin token and uploaded sources',
    parse: parsePath,
  }),
  setting({
    key: 'apiListen',
    env: 'SLIPWAY_API_LISTEN',
    flag: 'api-listen',
    default: '127.0.0.1:7070',
    description: 'Address of the REST API',
    parse: parseListen,
  }),
  setting({
    key: 'httpListen',
    env: 'SLIPWAY_HTTP_LISTEN',
    flag: 'http-listen',
    default: '0.0.0.0:8080',
    description: 'Address of the HTTP edge that serves the apps',
    parse: parseListen,
  }),
  setting({
    key: 'httpsListen',
    env: 'SLIPWAY_HTTPS_LISTEN',
    flag: 'https-listen',
    default: 'off',
    description: 'Address of the HTTPS edge, or "off"',
    parse: (raw) => (raw === 'off' ? null : parseListen(raw)),
  }),
  setting({
    key: 'baseDomain',
    env: 'SLIPWAY_BASE_DOMAIN',
    flag: 'base-domain',
    default: 'localhost',
    description: 'Project "web" answers at web.<base-domain>',
    parse: parseDomain,
  }),
  setting({
    key: 'trustedProxies',
    env: 'SLIPWAY_TRUSTED_PROXIES',
    flag: 'trusted-proxies',
    default: '',
    description:
      'Comma-separated CIDRs of proxies in front of the edge; only from these peers are X-Forwarded-* kept and appended to',
    parse: parseCidrList,
  }),
  setting({
    key: 'acmeDirectory',
    env: 'SLIPWAY_ACME_DIRECTORY',
    flag: 'acme-directory',
    default: 'https://acme-v02.api.letsencrypt.org/directory',
    description:
      'Directory URL of the ACME server certificates are ordered from, or "off" (uploaded certificates only)',
    parse: (raw) => (raw === 'off' ? null : parseHttpsUrl(raw)),
  }),
  setting({
    key: 'acmeEmail',
    env: 'SLIPWAY_ACME_EMAIL',
    flag: 'acme-email',
    default: '',
    description: 'Contact address of the ACME account (expiry warnings from the CA); none by default',
    parse: (raw) => {
      if (raw === '') return null;
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw new Error('expected an e-mail address');
      return raw;
    },
  }),
  setting({
    key: 'acmeCaFile',
    env: 'SLIPWAY_ACME_CA_FILE',
    flag: 'acme-ca-file',
    default: '',
    description: "PEM file of CAs trusted for the ACME server's own TLS, besides the system's (Pebble, a private CA)",
    parse: (raw) => (raw === '' ? null : parsePath(raw)),
  }),
  setting({
    key: 'dnsServers',
    env: 'SLIPWAY_DNS_SERVERS',
    flag: 'dns-servers',
    default: '',
    description: "Comma-separated resolvers (HOST or HOST:PORT) for domain checks; the system's by default",
    parse: parseDnsServers,
  }),
  setting({
    key: 'publicIps',
    env: 'SLIPWAY_PUBLIC_IPS',
    flag: 'public-ips',
    default: '',
    description:
      "Comma-separated addresses custom domains must point to; detected from the host's interfaces by default",
    parse: parseIpList,
  }),
  setting({
    key: 'apiDomain',
    env: 'SLIPWAY_API_DOMAIN',
    flag: 'api-domain',
    default: '',
    description: 'A host name at which the edge serves the API over HTTPS (with a certificate like a custom domain)',
    parse: (raw) => (raw === '' ? null : parseDomain(raw)),
  }),
  setting({
    key: 'maxUploadBytes',
    env: 'SLIPWAY_MAX_UPLOAD_BYTES',
    flag: 'max-upload-bytes',
    default: String(512 * 1024 * 1024),
    description: 'Largest accepted source upload, in bytes',
    parse: parseIntIn(1, Number.MAX_SAFE_INTEGER),
  }),
  setting({
    key: 'rateLimitToken',
    env: 'SLIPWAY_RATE_LIMIT_TOKEN',
    flag: 'rate-limit-token',
    default: '300',
    description: 'Requests per minute allowed for one API token',
    parse: parseIntIn(1, 1_000_000_000),
  }),
  setting({
    key: 'rateLimitIp',
    env: 'SLIPWAY_RATE_LIMIT_IP',
    flag: 'rate-limit-ip',
    default: '30',
    description: 'Requests per minute allowed for one client IP without a valid token',
    parse: parseIntIn(1, 1_000_000_000),
  }),
  setting({
    key: 'dockerHost',
    env: 'DOCKER_HOST',
    flag: 'docker-host',
    default: '',
    description: 'Docker engine address (unix:///path or tcp://host:port); empty means /var/run/docker.sock',
    parse: parseDockerHost,
  }),
  setting({
    key: 'buildTimeoutSeconds',
    env: 'SLIPWAY_BUILD_TIMEOUT',
    flag: 'build-timeout',
    default: '900',
    description: 'Seconds a build may take before it is stopped',
    parse: parseIntIn(10, 86_400),
  }),
  setting({
    key: 'buildMemoryMb',
    env: 'SLIPWAY_BUILD_MEMORY_MB',
    flag: 'build-memory-mb',
    default: '2048',
    description: 'Memory limit of each build step, MiB',
    parse: parseIntIn(32, 1_048_576),
  }),
  setting({
    key: 'buildConcurrency',
    env: 'SLIPWAY_BUILD_CONCURRENCY',
    flag: 'build-concurrency',
    default: '2',
    description: 'Deployments of different projects that may run at once',
    parse: parseIntIn(1, 64),
  }),
  setting({
    key: 'buildCpus',
    env: 'SLIPWAY_BUILD_CPUS',
    flag: 'build-cpus',
    default: '1',
    description: 'CPUs each build step may use (the rest stay with the running apps)',
    parse: parseDecimalIn(0.01, 1024),
  }),
  setting({
    key: 'buildPidsLimit',
    env: 'SLIPWAY_BUILD_PIDS_LIMIT',
    flag: 'build-pids-limit',
    default: '2048',
    description: 'Processes and threads a build may run at once; a build that reaches the limit is stopped',
    parse: parseIntIn(16, 4_194_304),
  }),
  setting({
    key: 'buildAllowPrivate',
    env: 'SLIPWAY_BUILD_ALLOW_PRIVATE',
    flag: 'build-allow-private',
    default: 'false',
    description:
      'true lets builds reach private addresses (10/8, 172.16/12, 192.168/16, 100.64/10), e.g. an internal package mirror; never this host',
    parse: parseBoolean,
  }),
  setting({
    key: 'sourceRetention',
    env: 'SLIPWAY_SOURCE_RETENTION',
    flag: 'source-retention',
    default: '10',
    description: 'Uploaded sources kept per project, for retries',
    parse: parseIntIn(1, 1000),
  }),
  setting({
    key: 'releaseRetention',
    env: 'SLIPWAY_RELEASE_RETENTION',
    flag: 'release-retention',
    default: '5',
    description: 'Images of this many recent releases are kept for rollbacks',
    parse: parseIntIn(1, 1000),
  }),
  setting({
    key: 'deploymentRetention',
    env: 'SLIPWAY_DEPLOYMENT_RETENTION',
    flag: 'deployment-retention',
    default: '100',
    description: 'Deployments kept per project in the history, with their logs; older ended ones are deleted',
    parse: parseIntIn(10, 100000),
  }),
  setting({
    key: 'drainTimeoutSeconds',
    env: 'SLIPWAY_DRAIN_TIMEOUT',
    flag: 'drain-timeout',
    default: '30',
    description: 'Seconds old instances get to finish in-flight requests after a swap',
    parse: parseIntIn(0, 3600),
  }),
  setting({
    key: 'reconcileIntervalSeconds',
    env: 'SLIPWAY_RECONCILE_INTERVAL',
    flag: 'reconcile-interval',
    default: '30',
    description: 'Seconds between checks that the live containers match the desired state',
    parse: parseIntIn(1, 3600),
  }),
  setting({
    key: 'role',
    env: 'SLIPWAY_ROLE',
    flag: 'role',
    default: 'all',
    description: 'all (API, worker and edge in one process), api (API and worker) or edge',
    parse: parseEnum(['all', 'api', 'edge'] as const),
  }),
  setting({
    key: 'maxArchiveEntries',
    env: 'SLIPWAY_MAX_ARCHIVE_ENTRIES',
    flag: 'max-archive-entries',
    default: '20000',
    description: 'Most entries an uploaded archive may hold',
    parse: parseIntIn(1, 10_000_000),
  }),
  setting({
    key: 'maxExpandedBytes',
    env: 'SLIPWAY_MAX_EXPANDED_BYTES',
    flag: 'max-expanded-bytes',
    default: String(1024 ** 3),
    description: 'Most bytes an uploaded archive may expand to',
    parse: parseIntIn(1, Number.MAX_SAFE_INTEGER),
  }),
  setting({
    key: 'backupDir',
    env: 'SLIPWAY_BACKUP_DIR',
    flag: 'backup-dir',
    default: '',
    description: 'Directory of local backups; <data-dir>/backups by default',
    parse: (raw) => (raw === '' ? null : parsePath(raw)),
  }),
  setting({
    key: 'backupSchedule',
    env: 'SLIPWAY_BACKUP_SCHEDULE',
    flag: 'backup-schedule',
    default: 'off',
    description: 'When backups run by themselves (UTC): off, daily@HH:MM, hourly@MM or every <n>s|m|h',
    parse: parseSchedule,
  }),
  setting({
    key: 'backupRetention',
    env: 'SLIPWAY_BACKUP_RETENTION',
    flag: 'backup-retention',
    default: 'daily=7,weekly=4',
    description:
      'Backups kept after each new one: the newest of each of the last N hours, days, weeks, and the last N (keys hourly, daily, weekly, last)',
    parse: parseRetention,
  }),
  setting({
    key: 'backupDestination',
    env: 'SLIPWAY_BACKUP_DESTINATION',
    flag: 'backup-destination',
    default: 'local',
    description: 'Where scheduled backups go: local (SLIPWAY_BACKUP_DIR) or s3 (SLIPWAY_BACKUP_S3_URL)',
    parse: parseEnum(['local', 's3'] as const),
  }),
  setting({
    key: 'backupS3',
    env: 'SLIPWAY_BACKUP_S3_URL',
    flag: 'backup-s3-url',
    default: '',
    description: 'Bucket and key prefix of the S3-compatible destination, s3://bucket/prefix',
    parse: (raw) => {
      if (raw === '') return null;
      const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/([A-Za-z0-9!_.*'()/-]*))?$/.exec(raw);
      if (!m) throw new Error('expected s3://bucket or s3://bucket/prefix');
      return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
    },
  }),
  setting({
    key: 'backupS3Endpoint',
    env: 'SLIPWAY_BACKUP_S3_ENDPOINT',
    flag: 'backup-s3-endpoint',
    default: '',
    description: "The S3-compatible service's URL (MinIO, R2, Backblaze…); AWS S3 by default",
    parse: (raw) => {
      if (raw === '') return null;
      if (!/^https?:\/\/[^\s]+$/.test(raw)) throw new Error('expected an http:// or https:// URL');
      return raw;
    },
  }),
  setting({
    key: 'backupS3Region',
    env: 'SLIPWAY_BACKUP_S3_REGION',
    flag: 'backup-s3-region',
    default: 'us-east-1',
    description: 'Region of the S3 destination',
    parse: (raw) => {
      if (!/^[a-z0-9-]{1,64}$/.test(raw)) throw new Error('expected a region such as us-east-1');
      return raw;
    },
  }),
  setting({
    key: 'backupS3AccessKeyId',
    env: 'SLIPWAY_BACKUP_S3_ACCESS_KEY_ID',
    flag: null,
    default: '',
    description: 'Access key id of the S3 destination',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'backupS3SecretAccessKey',
    env: 'SLIPWAY_BACKUP_S3_SECRET_ACCESS_KEY',
    flag: null,
    default: '',
    description: 'Secret access key of the S3 destination',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'backupPassphrase',
    env: 'SLIPWAY_BACKUP_PASSPHRASE',
    flag: null,
    default: '',
    description:
      'Seals backups with a key derived from this passphrase (scrypt) instead of from the master key; needed to restore them',
    parse: (raw) => {
      if (raw === '') return null;
      if (raw.length < 12) throw new Error('expected at least 12 characters');
      return raw;
    },
  }),
  setting({
    key: 'webhookAllowPrivate',
    env: 'SLIPWAY_WEBHOOK_ALLOW_PRIVATE',
    flag: 'webhook-allow-private',
    default: 'false',
    description:
      "true lets webhooks send to loopback, private, link-local and reserved addresses and the agent's own (a receiver on the same host or network)",
    parse: parseBoolean,
  }),
  setting({
    key: 'masterKey',
    env: 'SLIPWAY_MASTER_KEY',
    flag: null,
    default: '',
    description:
      'Base64 of the 32-byte key that encrypts secrets; else a systemd credential, else <data-dir>/master.key',
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'credentialsDirectory',
    env: 'CREDENTIALS_DIRECTORY',
    flag: null,
    default: '',
    description: "Set by systemd's LoadCredential=; Slipway reads slipway-master-key from it",
    parse: (raw) => (raw === '' ? null : raw),
  }),
  setting({
    key: 'logLevel',
    env: 'SLIPWAY_LOG_LEVEL',
    flag: 'log-level',
    default: 'info',
    description: 'debug, info, warn or error',
    parse: parseEnum(['debug', 'info', 'warn', 'error'] as const),
  }),
  setting({
    key: 'pullMaxBytes',
    env: 'SLIPWAY_PULL_MAX_BYTES',
    flag: 'pull-max-bytes',
    default: '4294967296',
    description: 'Largest prebuilt image a deployment may pull (layers downloaded, and unpacked size), bytes',
    parse: parseIntIn(1, Number.MAX_SAFE_INTEGER),
  }),
  setting({
    key: 'pullTimeoutSeconds',
    env: 'SLIPWAY_PULL_TIMEOUT',
    flag: 'pull-timeout',
    default: '900',
    description: 'Seconds the pull of a prebuilt image may take before it is stopped',
    parse: parseIntIn(1, 86_400),
  }),
  setting({
    key: 'consoleSessionSeconds',
    env: 'SLIPWAY_CONSOLE_SESSION_SECONDS',
    flag: 'console-session-seconds',
    default: String(12 * 3600),
    description: "How long a console sign-in lasts, in seconds (never past its token's expiry)",
    parse: parseIntIn(60, 30 * 24 * 3600),
  }),
  setting({
    key: 'execIdleTimeoutSeconds',
    env: 'SLIPWAY_EXEC_IDLE_TIMEOUT',
    flag: 'exec-idle-timeout',
    default: '900',
    description: 'Seconds an exec session may go without input or output before it is closed',
    parse: parseIntIn(1, 86400),
  }),
  setting({
    key: 'execMaxSessions',
    env: 'SLIPWAY_EXEC_MAX_SESSIONS',
    flag: 'exec-max-sessions',
    default: '4',
    description: 'Exec sessions one token may hold open at once',
    parse: parseIntIn(1, 100),
  }),
  setting({
    key: 'edgeEngine',
    env: 'SLIPWAY_EDGE_ENGINE',
    flag: 'edge-engine',
    default: 'native',
    description:
      "The edge's HTTP/1.1 engine: native (its own, on Bun.listen, with pooled upstream connections) or node (node:http)",
    parse: parseEnum(['native', 'node'] as const),
  }),
  setting({
    key: 'runtime',
    env: 'SLIPWAY_RUNTIME',
    flag: 'runtime',
    default: 'docker',
    description:
      "Where app instances run: docker (containers on DOCKER_HOST's engine) or swarm (services on the Swarm cluster that engine manages)",
    parse: parseEnum(['docker', 'swarm'] as const),
  }),
  setting({
    key: 'swarmRegistry',
    env: 'SLIPWAY_SWARM_REGISTRY',
    flag: 'swarm-registry',
    default: '',
    description:
      'On Swarm, the registry release images are pushed to and nodes pull from: host:port (HTTPS, else plain HTTP for an insecure registry), or with https:// or http://',
    parse: parseRegistryAddress,
  }),
  setting({
    key: 'projectSubnets',
    env: 'SLIPWAY_PROJECT_SUBNETS',
    flag: 'project-subnets',
    default: '172.16.0.0/12',
    description:
      "The IPv4 range each project's network takes a /24 of, skipping the engine's networks and this host's routes; docker leaves the subnet to the engine's own pools (about 30 networks by default)",
    parse: parseProjectSubnets,
  }),
  setting({
    key: 'apiEngine',
    env: 'SLIPWAY_API_ENGINE',
    flag: 'api-engine',
    default: 'native',
    description:
      "What listens on the API's port: native (a front on Bun.listen that answers the hot authenticated reads from the request's bytes and hands every other request to Bun.serve) or serve (Bun.serve itself)",
    parse: parseEnum(['serve', 'native'] as const),
  }),
  setting({
    key: 'edgeTlsAdmission',
    env: 'SLIPWAY_EDGE_TLS_ADMISSION',
    flag: 'edge-tls-admission',
    default: '5',
    description:
      "HTTPS handshake admission on the native engine: at most K (0-5) connections in Bun's native TLS handshake at once, the others over node:tls on a Duplex, first come first served; off keeps node:tls's server for all",
    parse: (raw: string): number | null => (raw === 'off' ? null : parseIntIn(0, 5)(raw)),
  }),
];

/** Public defaults of the base images; each has its own env var (SLIPWAY_IMAGE_NODE, …). */
export const DEFAULT_IMAGES: BaseImages = {
  static: 'busybox:1.37',
  node: 'node:22-alpine',
  bun: 'oven/bun:1-alpine',
  python: 'python:3.13-slim',
  go: 'golang:1.24-alpine',
  goRuntime: 'alpine:3.21',
  postgres: 'postgres:17-alpine',
};

/** The env var of each base image. */
export const IMAGE_ENV: Record<keyof BaseImages, string> = {
  static: 'SLIPWAY_IMAGE_STATIC',
  node: 'SLIPWAY_IMAGE_NODE',
  bun: 'SLIPWAY_IMAGE_BUN',
  python: 'SLIPWAY_IMAGE_PYTHON',
  go: 'SLIPWAY_IMAGE_GO',
  goRuntime: 'SLIPWAY_IMAGE_GO_RUNTIME',
  postgres: 'SLIPWAY_IMAGE_POSTGRES',
};

/**
 * Builds the Config from flags (highest precedence), then env vars, then defaults.
 * `flags` is keyed by the flag name (`data-dir`); unknown keys are ignored.
 */
export function loadConfig(
  env: Record<string, string | undefined>,
  flags: Record<string, string | undefined> = {},
): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const fromFlag = s.flag ? flags[s.flag] : undefined;
    const raw = fromFlag ?? env[s.env] ?? s.default;
    const source = fromFlag !== undefined ? `--${s.flag}` : env[s.env] !== undefined ? s.env : 'default';
    try {
      out[s.key] = s.parse(raw.trim());
    } catch (err) {
      // Env-only settings are the secrets (a flag would show them in `ps`): never echo their value.
      const shown = s.flag === null ? '(hidden)' : JSON.stringify(raw);
      problems.push(`${source}=${shown}: ${(err as Error).message}`);
    }
  }
  out.images = imagesFrom(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return out as unknown as Config;
}

/** Renders an address as `host:port`, bracketing IPv6. */
export function formatListen(a: ListenAddress): string {
  return a.hostname.includes(':') ? `[${a.hostname}]:${a.port}` : `${a.hostname}:${a.port}`;
}

function imagesFrom(env: Record<string, string | undefined>, problems: string[]): BaseImages {
  const images = { ...DEFAULT_IMAGES };
  for (const [key, name] of Object.entries(IMAGE_ENV) as [keyof BaseImages, string][]) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    if (/^[a-z0-9][a-z0-9._/:@-]{0,254}$/i.test(raw)) images[key] = raw;
    else problems.push(`${name}=${JSON.stringify(raw)}: expected an image reference such as node:22-alpine`);
  }
  return images;
}

function parsePath(raw: string): string {
  if (raw === '') throw new Error('must not be empty');
  if (raw.includes('\0')) throw new Error('must not contain NUL');
  return raw;
}

function parseListen(raw: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([^:]*)$/.exec(raw);
  if (!m) throw new Error('expected HOST:PORT, for example 127.0.0.1:7070 or :80');
  const hostname = m[1] ?? (m[2] || '0.0.0.0');
  if (!/^[A-Za-z0-9.:-]+$/.test(hostname)) throw new Error(`"${hostname}" is not a valid host`);
  const port = parsePort(m[3] ?? '');
  return { hostname, port };
}

function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw)) throw new Error(`port "${raw}" is not a number from 0 to 65535`);
  const port = Number(raw);
  if (port > 65535) throw new Error(`port ${port} is not a number from 0 to 65535`);
  return port;
}

function parseDomain(raw: string): string {
  const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
  const d = raw.toLowerCase();
  if (d.length > 253 || !d.split('.').every((l) => label.test(l))) {
    throw new Error('expected a DNS name such as localhost or apps.example.com');
  }
  return d;
}

function parseHttpsUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected an https:// URL, or off');
  }
  if (url.protocol !== 'https:') throw new Error('expected an https:// URL, or off');
  return url.href;
}

function parseIpList(raw: string): string[] {
  if (raw === '') return [];
  return raw.split(',').map((part) => {
    const ip = part.trim();
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IPv4 or IPv6 address`);
    return ip;
  });
}

function parseDnsServers(raw: string): string[] {
  if (raw === '') return [];
  return raw.split(',').map((part) => {
    const server = part.trim();
    if (isIP(server) === 6) return `[${server}]:53`;
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(server);
    const ip = m?.[1] ?? m?.[2];
    if (!m || !ip || isIP(ip) === 0) throw new Error(`"${server}" is not an address such as 127.0.0.1:53 or [::1]:53`);
    const port = m[3] === undefined ? 53 : parsePort(m[3]);
    return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
  });
}

function parseDockerHost(raw: string): string | null {
  if (raw === '') return null;
  if (!/^(unix|tcp|http|https):\/\//.test(raw)) throw new Error('expected unix:///path or tcp://host:port');
  return raw;
}

function parseIntIn(min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw)) throw new Error(`expected a whole number from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function parseDecimalIn(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n < min || n > max) throw new Error(`expected a number from ${min} to ${max}`);
    return n;
  };
}

function parseProjectSubnets(raw: string): Ipv4Range | null {
  if (raw === 'docker') return null;
  const range = parseIpv4Range(raw);
  if (!range || range.prefix > PROJECT_SUBNET_PREFIX) {
    throw new Error(`expected an IPv4 range of /${PROJECT_SUBNET_PREFIX} or larger, such as 172.16.0.0/12, or docker`);
  }
  return range;
}

function parseBoolean(raw: string): boolean {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error('expected true or false');
}

function parseEnum<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`expected one of ${values.join(', ')}`);
    return raw as T;
  };
}
