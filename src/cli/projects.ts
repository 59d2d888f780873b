/** `slipway projects …`: list, create, show and update (the lifecycle is in project-lifecycle.ts). */
import { Option, type Command } from 'commander';
import { seg } from './client.ts';
import { checkProjectName, intOption, type Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { colorsFor, out, type Io } from './io.ts';
import { registerProjectLifecycle } from './project-lifecycle.ts';
import { ago, formatBytes, keyValues, printJson, printTable, state } from './output.ts';
import type { Deployment, Project } from './api-types.ts';

/** The project settings as options, shared by create and update. */
function withSettings(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--port <port>', 'port the app listens on (else the Dockerfile EXPOSE, else 8080)').argParser(
        intOption('--port', 1, 65535),
      ),
    )
    .addOption(new Option('--instances <n>', 'number of instances, 1 to 20').argParser(intOption('--instances', 1, 20)))
    .addOption(
      new Option('--memory-mb <mib>', 'memory limit per instance, MiB').argParser(intOption('--memory-mb', 64, 262144)),
    )
    .addOption(new Option('--cpus <cores>', 'CPU limit per instance, in cores').argParser(parseCpus))
    .addOption(new Option('--health-check-path <path>', 'path Slipway GETs to decide an instance is healthy'))
    .addOption(new Option('--dockerfile <path>', 'path of the Dockerfile inside the source'))
    .addOption(
      new Option('--deploy-timeout <seconds>', 'seconds a new instance has to pass its health check').argParser(
        intOption('--deploy-timeout', 5, 3600),
      ),
    )
    .addOption(
      new Option(
        '--volume <name:/path>',
        'a persistent volume and where it mounts; repeat for several (replaces the list)',
      ).argParser(collectVolume),
    )
    .addOption(new Option('--no-volumes', 'mount no volumes (their data is kept until deleted)'))
    .addOption(
      new Option('--volumes-shared <yes|no>', 'whether several instances may mount the volumes at once').choices([
        'yes',
        'no',
      ]),
    );
}

function collectVolume(raw: string, previous: { name: string; mount_path: string }[] = []) {
  const m = /^([a-z][a-z0-9-]{0,62}):(\/.*)$/.exec(raw);
  if (!m) throw new UsageError(`--volume takes NAME:/PATH, such as data:/data, not "${raw}"`);
  return [...previous, { name: m[1]!, mount_path: m[2]! }];
}

function parseCpus(raw: string): number {
  const n = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || n < 0.05 || n > 64)
    throw new UsageError(`--cpus must be a number from 0.05 to 64, not "${raw}"`);
  return n;
}

/** The settings given as options, in the API's field names. */
function settingsBody(opts: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const fields = {
    port: 'port',
    instances: 'instances',
    memoryMb: 'memory_mb',
    cpus: 'cpus',
    healthCheckPath: 'health_check_path',
    dockerfile: 'dockerfile',
    deployTimeout: 'deploy_timeout',
  };
  for (const [opt, field] of Object.entries(fields)) if (opts[opt] !== undefined) body[field] = opts[opt];
  if (opts.volume !== undefined) body.volumes = opts.volume;
  else if (opts.volumes === false) body.volumes = [];
  if (opts.volumesShared !== undefined) body.volumes_shared = opts.volumesShared === 'yes';
  return body;
}

/** Registers the `projects` command group. */
export function registerProjects(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const c = () => colorsFor(io);
  const projects = cli.command('projects').description('List, create and manage projects');

  projects
    .command('list')
    .alias('ls')
    .description('List the projects')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<Project>('/v1/projects');
      if (opts.json) return printJson(io, list);
      const rows = list.map((p) => [
        p.name,
        p.hostname,
        state(p.desired_state, c()),
        String(p.instances),
        ago(p.created_at, io.now()),
      ]);
      printTable(
        io,
        c(),
        ['name', 'hostname', 'state', 'instances', 'created'],
        rows,
        'No projects yet: deploy a directory with `slipway deploy`',
      );
    });

  withSettings(
    projects.command('create').description('Create a project').argument('<name>', 'a DNS label: a-z, 0-9 and -'),
  )
    .option('--json', 'print the created project as JSON')
    .action(async (name: string, opts: Record<string, unknown>) => {
      const body = { name: checkProjectName(name), ...settingsBody(opts) };
      const p = await ctx.client().json<Project>('POST', '/v1/projects', { body });
      if (opts.json) return printJson(io, p);
      out(io, `Created project ${p.name}; it will answer at ${p.hostname}`);
    });

  projects
    .command('show')
    .description("Show a project's settings and live release")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const p = await ctx.client().get<Project>(`/v1/projects/${seg(checkProjectName(name))}`);
      if (opts.json) return printJson(io, p);
      const [live] = await ctx
        .client()
        .list<Deployment>(`/v1/projects/${seg(p.name)}/deployments`, { status: 'live' }, 1);
      out(io, showProject(p, live ?? null, io));
    });

  withSettings(projects.command('update').description("Change a project's settings").argument('<name>')).action(
    async (name: string, opts: Record<string, unknown>) => {
      const body = settingsBody(opts);
      if (Object.keys(body).length === 0)
        throw new UsageError('Nothing to change: pass at least one setting, e.g. --port 3000');
      const p = await ctx.client().json<Project>('PATCH', `/v1/projects/${seg(checkProjectName(name))}`, { body });
      out(io, `Updated project ${p.name}: ${Object.keys(body).join(', ')}; the next deployment uses the new settings`);
    },
  );

  projects
    .command('quota')
    .description("Set a project's quota (admin): the most instances, and memory and CPUs in all, it may use")
    .argument('<name>')
    .addOption(new Option('--instances <n>', 'most instances, 1 to 20').argParser(intOption('--instances', 1, 20)))
    .addOption(
      new Option('--memory-mb <mib>', 'most memory in all, MiB').argParser(intOption('--memory-mb', 64, 1048576)),
    )
    .addOption(new Option('--cpus <cores>', 'most CPUs in all').argParser(parseCpus))
    .addOption(
      new Option('--volume-mb <mib|none>', 'most each volume may hold, MiB, where the engine can enforce it').argParser(
        (raw) => (raw === 'none' ? null : intOption('--volume-mb', 1, 16_777_216)(raw)),
      ),
    )
    .option('--json', 'print the project as JSON')
    .action(
      async (
        name: string,
        opts: { instances?: number; memoryMb?: number; cpus?: number; volumeMb?: number | null; json?: boolean },
      ) => {
        const body = { instances: opts.instances, memory_mb: opts.memoryMb, cpus: opts.cpus, volume_mb: opts.volumeMb };
        if (Object.values(body).every((v) => v === undefined))
          throw new UsageError('Nothing to change: pass --instances, --memory-mb, --cpus or --volume-mb');
        const p = await ctx
          .client()
          .json<Project>('PUT', `/v1/projects/${seg(checkProjectName(name))}/quota`, { body });
        if (opts.json) return printJson(io, p);
        out(io, `Quota of ${p.name}: ${quotaText(p)}`);
      },
    );

  registerProjectLifecycle(projects, ctx);
}

function quotaText(p: Project): string {
  const volume = p.quota.volume_mb === null ? '' : `, ${p.quota.volume_mb} MiB per volume`;
  return `${p.quota.instances} instances, ${p.quota.memory_mb} MiB and ${p.quota.cpus} CPUs in all${volume}`;
}

function volumesText(p: Project): string {
  if (p.volumes.length === 0) return '-';
  const list = p.volumes.map((v) => `${v.name} → ${v.mount_path}`).join(', ');
  const size = p.volumes_size_bytes === null ? '' : `, ${formatBytes(p.volumes_size_bytes)}`;
  return `${list} (${p.volumes_shared ? 'shared by every instance' : 'one instance at a time'}${size})`;
}

/** The `projects show` block. */
export function showProject(p: Project, live: Deployment | null, io: Io): string {
  const c = colorsFor(io);
  return keyValues(
    [
      ['name', p.name],
      ['hostname', p.hostname],
      ['state', state(p.desired_state, c)],
      ['live', live ? `#${live.number} ${live.id}, ${ago(live.finished_at, io.now())}` : '-'],
      ['instances', String(p.instances)],
      ['port', p.port === null ? "Dockerfile's EXPOSE, else 8080" : String(p.port)],
      ['health check', `GET ${p.health_check_path}, ${p.deploy_timeout} s to pass`],
      ['limits', `${p.memory_mb} MiB, ${p.cpus} CPU`],
      ['volumes', volumesText(p)],
      ['quota', quotaText(p)],
      ['dockerfile', p.dockerfile ?? './Dockerfile or generated'],
      ['created', p.created_at],
    ],
    c,
  );
}
