import { t } from 'elysia';
import { ProjectName, Timestamp } from '../schemas.ts';

const settings = {
  port: t.Union([t.Integer({ minimum: 1, maximum: 65535 }), t.Null()], {
    description: "Port the app listens on (given to it as PORT); null: the Dockerfile's EXPOSE, else 8080",
  }),
  health_check_path: t.String({
    pattern: '^/[\\x21-\\x7E]*$',
    maxLength: 512,
    description: 'Path Slipway GETs to decide an instance is healthy',
  }),
  instances: t.Integer({ minimum: 1, maximum: 20 }),
  memory_mb: t.Integer({ minimum: 64, maximum: 262144, description: 'Memory limit per instance, MiB' }),
  cpus: t.Number({ minimum: 0.05, maximum: 64, description: 'CPU limit per instance, in cores' }),
  deploy_timeout: t.Integer({
    minimum: 5,
    maximum: 3600,
    description: 'Seconds a new instance has to pass its health check',
  }),
  dockerfile: t.Union(
    [t.String({ minLength: 1, maxLength: 255, pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9._/-]+$' }), t.Null()],
    { description: 'Path of the Dockerfile inside the source; null: ./Dockerfile or a generated one' },
  ),
};

const quota = {
  instances: t.Integer({ minimum: 1, maximum: 20, description: 'Most instances the project may run' }),
  memory_mb: t.Integer({
    minimum: 64,
    maximum: 1048576,
    description: 'Most memory the project may use in all (instances × memory_mb), MiB',
  }),
  cpus: t.Number({
    minimum: 0.05,
    maximum: 256,
    description: 'Most CPUs the project may use in all (instances × cpus)',
  }),
};

/** A project's ceiling, set by an admin. */
export const Quota = t.Object(quota, {
  description: 'Set by an admin (PUT …/quota); deploy tokens size the project within it',
});

/** The body of PUT /v1/projects/{name}/quota: any subset of the quota. */
export const QuotaBody = t.Object(
  { instances: t.Optional(quota.instances), memory_mb: t.Optional(quota.memory_mb), cpus: t.Optional(quota.cpus) },
  { additionalProperties: false },
);

/** A project and its settings. */
export const Project = t.Object({
  id: t.String(),
  name: ProjectName,
  hostname: t.String({ description: 'Where the edge serves the project', examples: ['web.localhost'] }),
  ...settings,
  desired_state: t.UnionEnum(['running', 'stopped'], { description: 'stopped after POST …/stop until POST …/start' }),
  quota: Quota,
  created_at: Timestamp,
  updated_at: Timestamp,
});

const optionalSettings = {
  port: t.Optional(settings.port),
  health_check_path: t.Optional(settings.health_check_path),
  instances: t.Optional(settings.instances),
  memory_mb: t.Optional(settings.memory_mb),
  cpus: t.Optional(settings.cpus),
  dockerfile: t.Optional(settings.dockerfile),
  deploy_timeout: t.Optional(settings.deploy_timeout),
};

/** The body of POST /v1/projects. */
export const CreateProjectBody = t.Object({ name: ProjectName, ...optionalSettings }, { additionalProperties: false });

/** The body of PATCH /v1/projects/{name}: any subset of the settings. */
export const UpdateProjectBody = t.Object(optionalSettings, { additionalProperties: false });

/** `{name}` in project routes. */
export const ProjectParams = t.Object({ name: ProjectName });
