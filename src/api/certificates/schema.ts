import { t } from 'elysia';
import { ProjectName, Timestamp } from '../schemas.ts';

/** A stored certificate as the API shows it (never its key). */
export const Certificate = t.Object({
  hostname: t.String({
    examples: ['shop.example.com'],
    description: 'The name it covers; "*.<base-domain>" for the wildcard',
  }),
  project: t.Union([t.String(), t.Null()], {
    description: 'The project it serves; null for the API domain and the wildcard',
  }),
  source: t.UnionEnum(['acme', 'uploaded'], {
    description: 'acme: ordered and renewed by Slipway; uploaded: never renewed',
  }),
  issuer: t.String({ description: "The issuer's common name" }),
  serial: t.String({ description: 'Upper-case hex' }),
  not_before: Timestamp,
  not_after: Timestamp,
  days_left: t.Integer({ description: 'Whole days until not_after; negative once expired' }),
  renew_at: t.Union([Timestamp, t.Null()], {
    description: 'When Slipway renews it (two thirds into its lifetime); null for uploaded ones',
  }),
  renewal: t.Object({
    failures: t.Integer({ description: 'Renewal failures in a row' }),
    last_error: t.Union([t.String(), t.Null()], { description: "The last failure, with the CA's own words" }),
    next_attempt_at: t.Union([Timestamp, t.Null()]),
  }),
});

/** A certificate brought by the user. */
export const CertificateUpload = t.Object(
  {
    certificate: t.String({
      minLength: 1,
      maxLength: 65536,
      description: 'PEM: the leaf certificate first, then its intermediates',
    }),
    private_key: t.String({
      minLength: 1,
      maxLength: 16384,
      description: "PEM: the leaf's private key, unencrypted (stored encrypted at rest)",
    }),
  },
  { additionalProperties: false },
);

/** /projects/{name}/domains/{hostname}/… */
export const DomainCertificateParams = t.Object({
  name: ProjectName,
  hostname: t.String({ minLength: 1, maxLength: 253, examples: ['shop.example.com'] }),
});
