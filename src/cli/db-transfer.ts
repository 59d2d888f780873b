/** `slipway db dump` and `slipway db restore`: pg_dump files streamed to and from the agent, never buffered. */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { confirmByName, note, out, type Io } from './io.ts';
import { formatBytes } from './output.ts';

/**
 * Streams a download (a dump, a volume's tar) to `output` (created 0600) or to stdout, never
 * buffering it, then says on stderr how many bytes of `what` were written.
 */
export async function saveDownload(io: Io, res: Response, output: string | undefined, what: string): Promise<void> {
  let bytes = 0;
  const counted = Readable.fromWeb(res.body as never).on('data', (chunk: Buffer) => (bytes += chunk.length));
  const target: Writable = output ? createWriteStream(resolve(io.cwd, output), { mode: 0o600 }) : io.stdout;
  await pipeline(counted, target, { end: output !== undefined });
  note(io, `Wrote ${formatBytes(bytes)} of ${what}${output ? ` to ${output}` : ''}`);
}

/** Adds dump and restore to the `db` group. */
export function registerDbTransfer(db: Command, ctx: Ctx): void {
  const { io } = ctx;
  const path = (project: string) => `/v1/projects/${seg(project)}/database`;
  withProject(db.command('dump').description('Stream a pg_dump (custom format) to a file or a redirected stdout'))
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .addHelpText(
      'after',
      '\nExample: slipway db dump --project web > web.dump   (restore it with `slipway db restore web.dump`)',
    )
    .action(async (opts: { project?: string; output?: string }) => {
      if (!opts.output && io.stdout.isTTY)
        throw new UsageError('A dump is binary: redirect it (slipway db dump > web.dump) or pass --output <file>');
      const res = await ctx.client().request('GET', `${path(projectOf(ctx, opts))}/dump`);
      await saveDownload(io, res, opts.output, 'pg_dump');
    });

  withProject(
    db.command('restore').description('Restore a pg_dump (custom format) into the database').argument('<file>'),
  )
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (file: string, opts: { project?: string; yes?: boolean }) => {
      const project = projectOf(ctx, opts);
      const full = resolve(io.cwd, file);
      if (!statSync(full, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`"${file}" is not a file`);
      if (!opts.yes) await confirmByName(io, project, `Replace what the dump contains in the database of "${project}"`);
      const body = Readable.toWeb(createReadStream(full)) as ReadableStream<Uint8Array>;
      await ctx
        .client()
        .request('POST', `${path(project)}/restore`, { body, headers: { 'content-type': 'application/octet-stream' } });
      out(io, `Restored ${file} into the database of ${project}`);
    });
}
