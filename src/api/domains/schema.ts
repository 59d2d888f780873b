import { t } from 'elysia';
import { ProjectName, Timestamp } from '../schemas.ts';

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T, description?: string) =>
  t.Union([schema, t.Null()], description ? { description } : {});

const HOSTNAME_EXAMPLE = 'shop.example.com';

/** A host name as a user may write it (normalised by the service). */
const HostnameInput = t.String({
  minLength: 1,
  maxLength: 300,
  description:
    "A host name you control; lower-cased, converted to punycode and stripped of a trailing dot. IP addresses, wildcards, localhost and the agent's own names are refused",
  examples: [HOSTNAME_EXAMPLE],
});

const TOKEN_EXAMPLE = 'k3j9x2m0q7w4e8r1t5y6u2i9o0p3a7s1';
const TXT_EXAMPLE = {
  type: 'TXT' as const,
  name: `_slipway-challenge.${HOSTNAME_EXAMPLE}`,
  value: `slipway-verification=${TOKEN_EXAMPLE}`,
  description: `a TXT record for _slipway-challenge.${HOSTNAME_EXAMPLE} with the value slipway-verification=${TOKEN_EXAMPLE}`,
};

const DnsRecord = t.Object({
  type: t.UnionEnum(['A', 'AAAA', 'TXT'], {
    description:
      'A/AAAA: point the name at this server; TXT: prove the name is yours (asked of names a non-admin token adds)',
  }),
  name: t.String({ examples: [HOSTNAME_EXAMPLE] }),
  value: t.String({ examples: ['203.0.113.7'] }),
  description: t.String({ examples: ['an A record for shop.example.com pointing to 203.0.113.7'] }),
});

const LastCheck = t.Object({
  at: Timestamp,
  method: t.UnionEnum(['dns', 'http'], {
    description: 'dns: the addresses were compared; http: the HTTP self-check through those addresses decided',
  }),
  addresses: t.Array(t.String(), { description: 'The A and AAAA addresses found', examples: [['198.51.100.4']] }),
  message: t.String({ examples: ['points to 198.51.100.4'] }),
});

const Certificate = t.Object({
  issuer: t.String({ examples: ["(STAGING) Let's Encrypt"] }),
  not_before: Timestamp,
  not_after: Timestamp,
  serial: t.String({ examples: ['04a1b2c3d4e5f60718293a4b5c6d7e8f9a0b'] }),
  source: t.UnionEnum(['acme', 'uploaded']),
});

/** A custom domain: where it stands and what to do. */
export const Domain = t.Object(
  {
    id: t.String({ examples: ['dom_01jd5x9k2m0000000000000000'] }),
    hostname: t.String({ examples: [HOSTNAME_EXAMPLE] }),
    project: ProjectName,
    redirect_to_https: t.Boolean({
      description:
        'HTTP visitors are redirected to HTTPS (301 for GET/HEAD, 308 otherwise) once a certificate is active',
    }),
    hsts: t.Boolean({ description: 'Strict-Transport-Security is sent on HTTPS responses' }),
    status: t.UnionEnum(['pending_dns', 'verified', 'issuing', 'active', 'failed'], {
      description:
        'pending_dns: the name does not reach this server yet, or (added by a non-admin token) its ownership TXT record is missing, and such a name is not routed until verified; verified: it does (routed over HTTP); issuing: a certificate is being ordered; active: served over HTTPS; failed: the order failed (see reason)',
    }),
    reason: nullable(t.String(), 'Why it is pending or failed, or why no certificate is ordered; null otherwise'),
    next_attempt_at: nullable(Timestamp, 'When the agent checks or orders again by itself'),
    dns_records: t.Array(DnsRecord, {
      description:
        'The records to create: one per public address of this server, then, for a name added by a non-admin token, the TXT record that proves it is yours',
    }),
    last_check: nullable(LastCheck, 'What the last check found; null before the first'),
    certificate: nullable(Certificate, 'The certificate serving the name, if any'),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    examples: [
      {
        id: 'dom_01jd5x9k2m0000000000000000',
        hostname: HOSTNAME_EXAMPLE,
        project: 'web',
        redirect_to_https: true,
        hsts: false,
        status: 'pending_dns',
        reason: `shop.example.com points to 198.51.100.4, not to this server (203.0.113.7); no HTTP check: it points to a private address; and its ownership is not proven: create ${TXT_EXAMPLE.description}`,
        next_attempt_at: '2026-11-24T10:31:00.000Z',
        dns_records: [
          {
            type: 'A',
            name: HOSTNAME_EXAMPLE,
            value: '203.0.113.7',
            description: 'an A record for shop.example.com pointing to 203.0.113.7',
          },
          TXT_EXAMPLE,
        ],
        last_check: {
          at: '2026-11-24T10:30:00.000Z',
          method: 'dns',
          addresses: ['198.51.100.4'],
          message: `points to 198.51.100.4; no ownership TXT record at _slipway-challenge.${HOSTNAME_EXAMPLE}`,
        },
        certificate: null,
        created_at: '2026-11-24T10:30:00.000Z',
        updated_at: '2026-11-24T10:30:00.000Z',
      },
    ],
  },
);

const options = {
  redirect_to_https: t.Boolean({ description: 'Redirect HTTP to HTTPS once a certificate is active', default: true }),
  hsts: t.Boolean({ description: 'Send Strict-Transport-Security on HTTPS', default: false }),
};

/** The body of POST …/domains. */
export const AddDomainBody = t.Object(
  { hostname: HostnameInput, redirect_to_https: t.Optional(options.redirect_to_https), hsts: t.Optional(options.hsts) },
  { additionalProperties: false, examples: [{ hostname: HOSTNAME_EXAMPLE, redirect_to_https: true, hsts: false }] },
);

/** The body of PATCH …/domains/{hostname}: what is left out keeps its value (no defaults here). */
export const UpdateDomainBody = t.Object(
  {
    redirect_to_https: t.Optional(t.Boolean({ description: 'Redirect HTTP to HTTPS once a certificate is active' })),
    hsts: t.Optional(t.Boolean({ description: 'Send Strict-Transport-Security on HTTPS' })),
  },
  { additionalProperties: false, examples: [{ hsts: true }] },
);

/** `{name}` and `{hostname}` in a domain's routes. */
export const DomainParams = t.Object({
  name: ProjectName,
  hostname: t.String({
    maxLength: 300,
    description: 'The host name, as added or in any case',
    examples: [HOSTNAME_EXAMPLE],
  }),
});
