/** `slipway volumes …`: a project's persistent volumes: list, download and restore a tar, rm. */
import { createReadStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { seg } from './client.ts';
import { saveDownload } from './db-transfer.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { colorsFor, confirmByName, out } from './io.ts';
import { formatBytes, printJson, printTable } from './output.ts';
import type { Volume } from './api-types.ts';

const VOLUME_NAME = /^[a-z][a-z0-9-]{0,62}$/;

function checkVolumeName(name: string): string {
  if (!VOLUME_NAME.test(name))
    throw new UsageError(
      `"${name}" is not a volume name: lower-case letters, digits and dashes, starting with a letter`,
    );
  return name;
}

/** Registers the `volumes` group. */
export function registerVolumes(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const volumes = cli
    .command('volumes')
    .description("A project's persistent volumes (set them with `projects update --volume name:/path`)");
  const path = (project: string, volume?: string) =>
    `/v1/projects/${seg(project)}/volumes${volume ? `/${seg(volume)}` : ''}`;

  withProject(volumes.command('list').alias('ls').description('List the volumes, with where they mount and their size'))
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const list = await ctx.client().list<Volume>(path(project));
      if (opts.json) return printJson(io, list);
      const rows = list.map((v) => [
        v.name,
        v.mount_path ?? '(not mounted; data kept)',
        v.size_bytes === null ? '-' : formatBytes(v.size_bytes),
        v.size_limit_bytes === null ? 'none' : formatBytes(v.size_limit_bytes),
        v.created ? (v.docker_volume ?? '-') : '(created on the next deploy)',
      ]);
      printTable(
        io,
        colorsFor(io),
        ['name', 'mount', 'size', 'limit', 'docker volume'],
        rows,
        `No volumes: add one with \`slipway projects update ${project} --volume data:/data\``,
      );
    });

  withProject(
    volumes
      .command('download')
      .description("Stream a tar of a volume's content to a file or a redirected stdout")
      .argument('<volume>'),
  )
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .addHelpText(
      'after',
      '\nExample: slipway volumes download data -p web > data.tar   (restore it with `volumes restore`)',
    )
    .action(async (volume: string, opts: { project?: string; output?: string }) => {
      if (!opts.output && io.stdout.isTTY)
        throw new UsageError(
          'A tar is binary: redirect it (slipway volumes download data > data.tar) or pass --output',
        );
      const res = await ctx.client().request('GET', `${path(projectOf(ctx, opts), checkVolumeName(volume))}/archive`);
      await saveDownload(io, res, opts.output, 'tar');
    });

  withProject(
    volumes
      .command('restore')
      .description("Replace a volume's content with a tar or tar.gz; the app is stopped for the swap and started again")
      .argument('<volume>')
      .argument('<file>'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (volume: string, file: string, opts: { project?: string; yes?: boolean }) => {
      const project = projectOf(ctx, opts);
      checkVolumeName(volume);
      const full = resolve(io.cwd, file);
      if (!statSync(full, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`"${file}" is not a file`);
      if (!opts.yes) await confirmByName(io, volume, `Replace everything in volume "${volume}" of "${project}"`);
      const gzip = /\.(tgz|gz)$/i.test(file);
      const body = Readable.toWeb(createReadStream(full)) as ReadableStream<Uint8Array>;
      const v = await ctx.client().json<Volume>('PUT', `${path(project, volume)}/archive`, {
        body,
        headers: { 'content-type': gzip ? 'application/gzip' : 'application/x-tar' },
      });
      out(io, `Restored ${file} into volume ${v.name} of ${project}`);
    });

  withProject(
    volumes
      .command('rm')
      .alias('delete')
      .description('Delete a volume taken out of the project settings, and its data')
      .argument('<volume>'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (volume: string, opts: { project?: string; yes?: boolean }) => {
      const project = projectOf(ctx, opts);
      checkVolumeName(volume);
      if (!opts.yes) await confirmByName(io, volume, `Delete volume "${volume}" of "${project}" and all its data`);
      await ctx.client().request('DELETE', path(project, volume), { query: { confirm: volume } });
      out(io, `Deleted volume ${volume} of ${project}`);
    });
}
