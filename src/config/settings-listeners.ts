/** Settings: the data directory, the listeners, domains and ACME, upload and rate limits. */
import { parseCidrList } from '../edge/trusted-proxies.ts';
import {
  parseDnsServers,
  parseDomain,
  parseHttpsUrl,
  parseIntIn,
  parseIpList,
  parseListen,
  parsePath,
} from './parse.ts';
import { setting } from './setting.ts';

export const LISTENERS_SETTINGS = [
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
];
