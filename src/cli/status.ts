/** `slipway status`: the agent's health, the token in use and every project at a glance. */
import type { Command } from 'commander';
import { seg } from './client.ts';
import type { Ctx } from './context.ts';
import { colorsFor, out } from './io.ts';
import { ago, formatDuration, keyValues, printJson, printTable, state } from './output.ts';
import type { Certificate, Deployment, Health, Me, Project } from './api-types.ts';
import { printCertificates } from './certificates.ts';
import { ApiError } from './errors.ts';

/** Projects whose latest deployment is looked up, at most. */
const LATEST_FOR = 50;

/** Registers `status`. */
export function registerStatus(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  cli
    .command('status')
    .description('Agent health and projects at a glance')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const client = ctx.client();
      const [health, me, projects, certificates] = await Promise.all([
        client.get<Health>('/v1/health'),
        client.get<Me>('/v1/me'),
        client.list<Project>('/v1/projects'),
        client.get<{ data: Certificate[] }>('/v1/certificates').then(
          (page) => page.data,
          // An agent from before certificates has no such route: show the rest.
          (err: unknown) => {
            if (err instanceof ApiError && err.status === 404) return [];
            throw err;
          },
        ),
      ]);
      const latest = await Promise.all(
        projects
          .slice(0, LATEST_FOR)
          .map(
            async (p) => (await client.list<Deployment>(`/v1/projects/${seg(p.name)}/deployments`, {}, 1))[0] ?? null,
          ),
      );
      if (opts.json) {
        return printJson(io, {
          agent: client.url,
          health,
          token: me,
          projects: projects.map((p, i) => ({ ...p, latest_deployment: latest[i] ?? null })),
          certificates,
        });
      }
      const c = colorsFor(io);
      const docker = health.docker.ok
        ? `Docker ${health.docker.version ?? '?'}`
        : c.red(`Docker unreachable: ${health.docker.error ?? 'no answer'}`);
      out(
        io,
        keyValues(
          [
            ['agent', `${client.url} (token from ${client.credentials.source})`],
            ['version', `${health.version}, up ${formatDuration(health.uptime_seconds * 1000)}`],
            [
              'health',
              `${state(health.status, c)} (database ${health.database.ok ? 'ok' : c.red('failing')}, ${docker})`,
            ],
            ['token', `${me.name} (${me.scope}, ${me.projects ? me.projects.join(', ') : 'all projects'})`],
          ],
          c,
        ),
      );
      out(io, '');
      const rows = projects.map((p, i) => {
        const d = latest[i];
        const last = d
          ? `#${d.number} ${state(d.status, c)} ${ago(d.created_at, io.now())}`
          : d === null
            ? 'never deployed'
            : '-';
        return [p.name, p.hostname, state(p.desired_state, c), String(p.instances), last];
      });
      printTable(
        io,
        c,
        ['project', 'hostname', 'state', 'instances', 'latest deployment'],
        rows,
        'No projects yet: deploy a directory with `slipway deploy`',
      );
      if (certificates.length > 0) {
        out(io, '');
        printCertificates(io, certificates);
      }
    });
}
