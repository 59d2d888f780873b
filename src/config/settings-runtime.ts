/** Settings of logs, image pulls, the console and exec, the engines of the edge and the API, the Swarm runtime. */
import { parseRegistryAddress } from '../runtime/swarm/registry-address.ts';
import { parseEnum, parseIntIn, parseProjectSubnets } from './parse.ts';
import { setting } from './setting.ts';

export const RUNTIME_SETTINGS = [
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
