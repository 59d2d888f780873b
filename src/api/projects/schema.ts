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
  volumes: t.Array(
    t.Object(
      {
        name: t.String({ pattern: '^[a-z][a-z0-9-]{0,62}$', description: 'A DNS label, unique in the project' }),
        mount_path: t.String({
          maxLength: 255,
          pattern: '^/',
          description: 'Absolute path inside every instance; not /, not under /proc, /sys or /dev',
          examples: ['/data'],
        }),
      },
      { additionalProperties: false },
    ),
    {
      maxItems: 10,
      description:
        'Persistent volumes, one Docker volume per name, mounted into every instance and kept across deploys, ' +
        'restarts, scaling and rollbacks. Taking a name out of the list unmounts it but keeps its data until the ' +
        'project is deleted or DELETE …/volumes/{volume} removes it',
    },
  ),
  volumes_shared: t.Boolean({
    description:
      'false (default): the volumes take one writer at a time: the project runs 1 instance and a rollout stops ' +
      'the old instance before starting the new one (a few seconds of 503). true: several instances, and both ' +
      'sides of a zero-downtime rollout, mount the same volumes at once; the app must cope with that',
  }),
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
  volume_mb: t.Union([t.Integer({ minimum: 1, maximum: 16_777_216 }), t.Null()], {
    description:
      'Most each of its volumes may hold, MiB; null: no limit. Enforced by the engine only where Docker ' +
      'supports volume quotas (its data root on xfs mounted with pquota), and only for volumes created after ' +
      'it is set; GET …/volumes says per volume whether a limit is enforced',
  }),
};

/** A project's ceiling, set by an admin. */
export const Quota = t.Object(quota, {
  description: 'Set by an admin (PUT …/quota); deploy tokens size the project within it',
});

/** The body of PUT /v1/projects/{name}/quota: any subset of the quota. */
export const QuotaBody = t.Object(
  {
    instances: t.Optional(quota.instances),
    memory_mb: t.Optional(quota.memory_mb),
    cpus: t.Optional(quota.cpus),
    volume_mb: t.Optional(quota.volume_mb),
  },
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
  volumes_size_bytes: t.Union([t.Integer(), t.Null()], {
    description:
      "What the project's volumes hold in all (including ones taken out of the setting), as last measured; " +
      'measured in the background at most once a minute, null until the first measurement',
  }),
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
  volumes: t.Optional(settings.volumes),
  volumes_shared: t.Optional(settings.volumes_shared),
};

/** The body of POST /v1/projects. */
export const CreateProjectBody = t.Object({ name: ProjectName, ...optionalSettings }, { additionalProperties: false });

/** The body of PATCH /v1/projects/{name}: any subset of the settings. */
export const UpdateProjectBody = t.Object(optionalSettings, { additionalProperties: false });

/** `{name}` in project routes. */
export const ProjectParams = t.Object({ name: ProjectName });
