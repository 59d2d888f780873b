/** `slipway login <url>` and `slipway logout`: the agent and token the CLI uses, saved in its config file. */
import type { Command } from 'commander';
import { ApiClient } from './client.ts';
import { removeLogin, writeLogin, configFilePath } from './config-file.ts';
import { isLoopback, localAdminToken, normaliseUrl } from './credentials.ts';
import type { Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { interactive, note, out, type Io } from './io.ts';
import type { Me } from './api-types.ts';

/** Registers `login` and `logout`. */
export function registerLogin(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  cli
    .command('login')
    .description('Check a token against an agent and save both for the next commands')
    .argument('<url>', "the agent's API, e.g. http://127.0.0.1:7070 or https://slipway.example.com")
    .option('--token <token>', 'an API token (slw_…); else SLIPWAY_TOKEN, the local admin token, stdin, or a prompt')
    .addHelpText(
      'after',
      '\nKeep tokens out of shell history: echo "$TOKEN" | slipway login https://slipway.example.com',
    )
    .action(async (rawUrl: string, opts: { token?: string }) => {
      const url = normaliseUrl(rawUrl);
      const token = await findToken(io, url, opts.token);
      const me = await new ApiClient({ url, token, source: 'login' }).get<Me>('/v1/me');
      const path = writeLogin(io.env, { url, token });
      out(
        io,
        `Logged in to ${url} with token "${me.name}" (${me.id}, scope ${me.scope}, ${me.projects ? `projects ${me.projects.join(', ')}` : 'all projects'})`,
      );
      note(io, `Saved to ${path} (mode 0600)`);
    });

  cli
    .command('logout')
    .description('Forget the saved agent and token')
    .action(() => {
      const path = configFilePath(io.env);
      out(io, removeLogin(io.env) ? `Removed ${path}` : `Not logged in (no ${path})`);
    });
}

async function findToken(io: Io, url: string, given: string | undefined): Promise<string> {
  const direct = given?.trim() || io.env.SLIPWAY_TOKEN?.trim();
  if (direct) return direct;
  const local = isLoopback(url) ? localAdminToken(io.env, io.cwd) : null;
  if (local) {
    note(io, `Using the admin token in ${local.path}`);
    return local.token;
  }
  if (!io.stdin.isTTY) {
    let text = '';
    for await (const chunk of io.stdin) text += String(chunk);
    if (text.trim()) return text.trim();
  } else if (interactive(io)) {
    const typed = (await io.ask('Token (slw_…): ', { silent: true })).trim();
    if (typed) return typed;
  }
  throw new UsageError('No token: pass --token, set SLIPWAY_TOKEN, or pipe it on stdin');
}
