/** `slipway deploy [dir]`: pack the directory, stream it to the agent, optionally follow it live. */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { seg } from './client.ts';
import { checkProjectName, projectNameFromDir, type Ctx } from './context.ts';
import { queued } from './follow.ts';
import { ApiError, FailedError, UsageError } from './errors.ts';
import { confirm, interactive, note } from './io.ts';
import { formatBytes, printJson } from './output.ts';
import type { PackPlan } from './pack.ts';
import type { Deployment, Project } from './api-types.ts';

/** Options of `slipway deploy`. */
export interface DeployOptions {
  project?: string;
  follow?: boolean;
  yes?: boolean;
  json?: boolean;
  /** Deploy this prebuilt image instead of packing a directory. */
  image?: string;
}

/** Registers `deploy`. */
export function registerDeploy(cli: Command, ctx: Ctx): void {
  cli
    .command('deploy')
    .description('Pack a directory into a tar.gz while streaming it to the agent, and deploy it')
    .argument('[dir]', "the app's source directory", '.')
    .option('-p, --project <name>', "the project (default: the directory's name, made a DNS label)")
    .option('-f, --follow', 'stream the build and deploy log; exit 0 only when the deployment is live')
    .option('-y, --yes', 'create the project without asking when it does not exist')
    .option('--json', 'print the queued deployment as JSON (without --follow)')
    .option('--image <ref>', 'deploy a prebuilt image (e.g. registry.example.com/team/app:1.4) instead of a directory')
    .addHelpText(
      'after',
      '\nFiles matched by .slipwayignore (else .dockerignore) are left out, and .git always is. So are .env and\n' +
        '.env.* files (secrets: set them with `slipway env set`) unless .slipwayignore re-includes them (`!.env`).\n' +
        'With --image the agent pulls the image instead (credentials: `slipway registries add`); [dir] only names\n' +
        'the project when --project is not given.',
    )
    .action((dir: string, opts: DeployOptions) => deploy(ctx, dir, opts));
}

/** Deploys `dir`; with `follow`, resolves only once the deployment is live (FailedError otherwise). */
export async function deploy(ctx: Ctx, dir: string, opts: DeployOptions): Promise<void> {
  const { io } = ctx;
  const root = resolve(io.cwd, dir);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`"${dir}" is not a directory`);
  const project = opts.project !== undefined ? checkProjectName(opts.project) : projectNameFromDir(root);
  const { hostname } = await ensureProject(ctx, project, opts.yes === true);
  if (opts.image !== undefined) return deployImage(ctx, project, hostname, opts);

  // Loaded here, not at every CLI start: the packer (tar, gzip) and the progress bar.
  const [{ planPack, packStream }, { progressReporter, uploadedLine }] = await Promise.all([
    import('./pack.ts'),
    import('./progress.ts'),
  ]);
  const plan = planPack(root);
  note(io, packingLine(dir, project, plan));
  const secrets = secretFilesLine(plan);
  if (secrets) note(io, secrets);
  for (const path of plan.skipped) note(io, `Skipped ${path}: only files, directories and symlinks can be uploaded`);
  const files = plan.entries.filter((e) => e.type === 'file').length;
  const reporter = progressReporter(io, plan.bytes);
  let sent = 0;
  const body = packStream(plan, (p) => {
    sent = p.sent;
    reporter.update(p);
  });
  let dep: Deployment;
  try {
    dep = await ctx.client().json<Deployment>('POST', `/v1/projects/${seg(project)}/deployments`, {
      body,
      headers: { 'content-type': 'application/gzip' },
    });
  } finally {
    const ms = reporter.stop();
    if (sent > 0) note(io, uploadedLine(files, plan.bytes, sent, ms));
  }
  if (opts.json && !opts.follow) return printJson(io, dep);
  await queued(ctx, project, dep, { what: 'upload', follow: opts.follow, hostname });
}

/** Queues a deployment of `opts.image`, a prebuilt image the agent pulls. */
async function deployImage(ctx: Ctx, project: string, hostname: string, opts: DeployOptions): Promise<void> {
  const dep = await ctx.client().json<Deployment>('POST', `/v1/projects/${seg(project)}/deployments`, {
    body: { image: opts.image },
  });
  if (opts.json && !opts.follow) return printJson(ctx.io, dep);
  await queued(ctx, project, dep, { what: `image ${dep.image_ref}`, follow: opts.follow, hostname });
}

/** The first line of a deploy. */
export function packingLine(dir: string, project: string, plan: PackPlan): string {
  const files = plan.entries.filter((e) => e.type === 'file').length;
  const rules = plan.ignoreFile ? `honouring ${plan.ignoreFile}` : 'no .slipwayignore or .dockerignore';
  return `Packing ${dir} for project ${project}: ${files} file${files === 1 ? '' : 's'}, ${formatBytes(plan.bytes)} (${rules})`;
}

/** The one line saying which `.env` files were left out, or null when none was. */
export function secretFilesLine(plan: PackPlan): string | null {
  const files = plan.secretFiles;
  if (files.length === 0) return null;
  const shown = files.length > 5 ? [...files.slice(0, 4), `${files.length - 4} more`] : files;
  return `Left out ${shown.join(', ')} (secrets; set them with \`slipway env set\`, or send them with a \`!.env\` line in .slipwayignore)`;
}

/** Makes sure the project exists, creating it with --yes or after a yes on the terminal. */
async function ensureProject(ctx: Ctx, project: string, yes: boolean): Promise<Project> {
  try {
    return await ctx.client().get<Project>(`/v1/projects/${seg(project)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  if (!yes) {
    if (!interactive(ctx.io)) {
      throw new UsageError(
        `Project "${project}" does not exist: pass --yes to create it, or run \`slipway projects create ${project}\``,
      );
    }
    if (!(await confirm(ctx.io, `Project "${project}" does not exist. Create it?`)))
      throw new FailedError('Nothing was deployed');
  }
  const created = await ctx.client().json<Project>('POST', '/v1/projects', { body: { name: project } });
  note(ctx.io, `Created project ${created.name}; it will answer at ${created.hostname}`);
  return created;
}
