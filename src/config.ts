/**
 * One schema for every setting: its env var, its CLI flag, its default and its parser.
 * Nothing else in Slipway reads process.env; main.ts hands the environment in.
 */
import type { Cidr } from './edge/trusted-proxies.ts';
import type { RegistryAddress } from './runtime/swarm/registry-address.ts';
import type { Retention, Schedule } from './backups/schedule.ts';
import type { Ipv4Range } from './runtime/subnets.ts';
import { BUILDS_SETTINGS } from './config/settings-builds.ts';
import { DATA_SETTINGS } from './config/settings-data.ts';
import { LISTENERS_SETTINGS } from './config/settings-listeners.ts';
import { RUNTIME_SETTINGS } from './config/settings-runtime.ts';

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

/** The settings table (base images aside, see IMAGE_ENV), in groups; the README's configuration table mirrors it. */
export const SETTINGS = [...LISTENERS_SETTINGS, ...BUILDS_SETTINGS, ...DATA_SETTINGS, ...RUNTIME_SETTINGS];

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
