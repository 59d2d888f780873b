import { t } from 'elysia';
import { Timestamp } from '../schemas.ts';

/** Registry credentials as listed: never the password. */
export const Registry = t.Object({
  id: t.String({ examples: ['reg_01jd5x9k2m0000000000000000'] }),
  host: t.String({ examples: ['registry.example.com', '127.0.0.1:5000'] }),
  username: t.String(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** The body of POST /v1/registries. */
export const AddRegistryBody = t.Object(
  {
    host: t.String({
      minLength: 1,
      maxLength: 253,
      description: 'The registry host (and port) as image references name it; docker.io for Docker Hub',
      examples: ['registry.example.com'],
    }),
    username: t.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7E]+$' }),
    password: t.String({
      minLength: 1,
      maxLength: 4096,
      description: 'A password or access token; stored encrypted and never returned',
    }),
  },
  { additionalProperties: false },
);

/** `{host}` of one registry. */
export const RegistryParams = t.Object({ host: t.String({ minLength: 1, maxLength: 253 }) });
