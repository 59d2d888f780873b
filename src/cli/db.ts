/** `slipway db …`: a project's Postgres database: create, show, rm (dump and restore are in db-transfer.ts). */
import type { Command } from 'commander';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { queued } from './follow.ts';
import { registerDbTransfer } from './db-transfer.ts';
import { colorsFor, confirmByName, out, type Io } from './io.ts';
import { cell, formatBytes, keyValues, printJson, state } from './output.ts';
import type { Database, Deployment } from './api-types.ts';

/** Registers the `db` group. */
export function registerDb(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const db = cli.command('db').description("A project's own Postgres database; the app gets DATABASE_URL");
  const path = (project: string) => `/v1/projects/${seg(project)}/database`;

  withProject(db.command('create').description('Create the database; a live app is rolled out with DATABASE_URL'))
    .option('-f, --follow', 'stream the rollout; exit 0 only when it is live')
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; follow?: boolean; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const created = await ctx
        .client()
        .json<{ database: Database; deployment: Deployment | null }>('POST', path(project));
      if (opts.json) return printJson(io, created);
      out(io, `Created the database of ${project} (${created.database.status}); the app gets DATABASE_URL`);
      if (created.deployment)
        await queued(ctx, project, created.deployment, {
          what: 'DATABASE_URL',
          follow: opts.follow,
          idOnStdout: false,
        });
    });

  withProject(db.command('show').description('Show the database: status, version, size and connection'))
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }) => {
      const info = await ctx.client().get<Database>(path(projectOf(ctx, opts)));
      if (opts.json) return printJson(io, info);
      out(io, showDatabase(info, io));
    });

  registerDbTransfer(db, ctx);

  withProject(
    db
      .command('rm')
      .alias('delete')
      .description('Delete the database and its data; the app is rolled out without DATABASE_URL'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (opts: { project?: string; yes?: boolean }) => {
      const project = projectOf(ctx, opts);
      if (!opts.yes) await confirmByName(io, project, `Delete the database of "${project}" and all its data`);
      await ctx.client().request('DELETE', path(project), { query: { confirm: project } });
      out(io, `Deleted the database of ${project}`);
    });
}

// The API percent-encodes the mask in the URL; people read it better as dots.
function readable(url: string): string {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

/** The `db show` block (the API masks the password; the app alone gets the real one), then any warnings. */
export function showDatabase(d: Database, io: Io): string {
  const c = colorsFor(io);
  const conn = d.connection;
  const warnings = (d.warnings ?? []).map((w) => `\n${c.yellow(`warning: ${w}`)}`).join('');
  return `${keyValues(
    [
      ['status', state(d.status, c)],
      ['version', cell(d.version ?? d.image)],
      ['size', d.size_bytes === null ? '-' : formatBytes(d.size_bytes)],
      ['host', conn ? `${conn.host}:${conn.port}` : '-'],
      ['database', cell(conn?.database)],
      ['user', cell(conn?.user)],
      ['url', d.url ? readable(d.url) : '-'],
      ['created', d.created_at],
    ],
    c,
  )}${warnings}`;
}
