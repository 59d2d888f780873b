/** `slipway registries …`: pull credentials for prebuilt images, per registry host (admin). */
import type { Command } from 'commander';
import { seg } from './client.ts';
import type { Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { colorsFor, interactive, out, type Io } from './io.ts';
import { ago, printJson, printTable } from './output.ts';
import type { Registry } from './api-types.ts';

/** Registers the `registries` group. */
export function registerRegistries(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const registries = cli
    .command('registries')
    .description('Credentials the agent pulls prebuilt images with, one set per registry host (admin)');

  registries
    .command('add')
    .description('Add or replace the credentials of a registry host')
    .argument('<host>', 'the registry host as image references name it, e.g. registry.example.com or docker.io')
    .requiredOption('-u, --username <name>', 'the user or robot account')
    .option('--password-stdin', 'read the password or access token from stdin (else a prompt)')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nCredentials are host-wide: every project deploying an image from the host uses them, so prefer a\n' +
        'read-only robot account. Keep the password out of shell history:\n' +
        '  echo "$TOKEN" | slipway registries add registry.example.com -u ci --password-stdin',
    )
    .action(async (host: string, opts: { username: string; passwordStdin?: boolean; json?: boolean }) => {
      const password = await readPassword(io, opts.passwordStdin === true);
      const res = await ctx
        .client()
        .request('POST', '/v1/registries', { body: { host, username: opts.username, password } });
      const registry = (await res.json()) as Registry;
      if (opts.json) return printJson(io, registry);
      out(
        io,
        `${res.status === 201 ? 'Added' : 'Replaced'} the credentials of ${registry.host} (user ${registry.username})`,
      );
    });

  registries
    .command('list')
    .alias('ls')
    .description('List the registry hosts with credentials (never the passwords)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<Registry>('/v1/registries', {}, 1000);
      if (opts.json) return printJson(io, list);
      const rows = list.map((r) => [r.host, r.username, ago(r.updated_at, io.now())]);
      printTable(io, colorsFor(io), ['host', 'username', 'updated'], rows, 'No registry credentials');
    });

  registries
    .command('rm')
    .alias('remove')
    .description('Remove the credentials of a registry host')
    .argument('<host>', 'the registry host')
    .action(async (host: string) => {
      const removed = await ctx.client().json<Registry>('DELETE', `/v1/registries/${seg(host)}`);
      out(io, `Removed the credentials of ${removed.host}`);
    });
}

async function readPassword(io: Io, fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    let text = '';
    for await (const chunk of io.stdin) text += String(chunk);
    const password = text.replace(/\r?\n$/, '');
    if (password) return password;
    throw new UsageError('--password-stdin read nothing from stdin');
  }
  if (interactive(io)) {
    const typed = await io.ask('Password: ', { silent: true });
    if (typed) return typed;
  }
  throw new UsageError('No password: pass --password-stdin and pipe it, or run on a terminal to be asked');
}
