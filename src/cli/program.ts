/** The `slipway` command tree: every command, `help <command…>`, and the exit codes in the help. */
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import { registerActivity } from './activity.ts';
import { addDomainCertificateCommands, registerCertificates } from './certificates.ts';
import { createCtx } from './context.ts';
import { registerDb } from './db.ts';
import { registerDeploy } from './deploy.ts';
import { registerDeployments } from './deployments.ts';
import { registerDoctor } from './doctor.ts';
import { registerDomains } from './domains.ts';
import { registerPrepareBuilds } from './prepare-builds.ts';
import { registerEnv } from './env.ts';
import { UsageError } from './errors.ts';
import { registerInstall } from './install.ts';
import type { Io } from './io.ts';
import { registerLogin } from './login.ts';
import { registerLogs } from './logs.ts';
import { registerProjects } from './projects.ts';

import { addSettingOptions, settingFlags } from './settings-options.ts';
import { registerStatus } from './status.ts';
import { registerTokens } from './tokens.ts';
import { registerVolumes } from './volumes.ts';
import { registerBackup } from './backup.ts';
import { registerRegistries } from './registries.ts';
import { registerWebhooks } from './webhooks.ts';
import { registerConsoleLink } from './console-link.ts';
import { registerExec } from './exec.ts';
import { registerMcp } from './mcp.ts';
import { registerNodes } from './nodes.ts';

/** Printed after the top-level help; the README's CLI section says the same. */
export const HELP_FOOTER = `
Which agent: SLIPWAY_URL and SLIPWAY_TOKEN; else the login saved by \`slipway login\`
(~/.config/slipway/config.json); else the agent on this host (SLIPWAY_API_LISTEN, default
127.0.0.1:7070) with the admin token in ./data or /var/lib/slipway when this user can read it.

Exit codes:
  0    success
  1    the operation failed (the API refused it, or a deployment did not go live)
  2    usage error: unknown command, bad arguments or options
  3    cannot reach the agent, or not authorised (no token, or one it refused)
  130  interrupted (Ctrl-C)

Run \`slipway help <command>\` (or \`slipway <command> --help\`) for a command's options.`;

/**
 * Builds the command tree for one invocation; output goes to `io`, commander never exits the process.
 * `command` is the invocation's first argument: for `serve` only that command is registered, since
 * building the other ~80 commands and their options is ~10 ms of the agent's start for nothing.
 */
export function buildProgram(io: Io, command?: string): Command {
  const ctx = createCtx(io);
  const cli = new Command('slipway')
    .description('Self-hosted deploy agent: upload source, get a zero-downtime deploy. The same executable is the CLI.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .helpCommand(false)
    .addHelpText('after', HELP_FOOTER);
  if (command === 'serve') return addServe(cli, io);

  registerLogin(cli, ctx);
  registerDeploy(cli, ctx);
  registerStatus(cli, ctx);
  registerProjects(cli, ctx);
  registerDeployments(cli, ctx);
  registerLogs(cli, ctx);
  registerEnv(cli, ctx);
  registerDomains(cli, ctx);
  addDomainCertificateCommands(cli.commands.find((c) => c.name() === 'domains')!, ctx);
  registerDb(cli, ctx);
  registerVolumes(cli, ctx);
  registerBackup(cli, ctx);
  registerCertificates(cli, ctx);
  registerTokens(cli, ctx);
  registerActivity(cli, ctx);
  registerRegistries(cli, ctx);
  registerWebhooks(cli, ctx);
  registerExec(cli, ctx);
  registerMcp(cli, ctx);
  registerNodes(cli, ctx);
  registerDoctor(cli, io);
  registerInstall(cli, io);
  registerPrepareBuilds(cli, io);
  registerConsoleLink(cli, io);
  addServe(cli, io);

  cli
    .command('help')
    .description('Show the help of a command')
    .argument('[command...]', 'a command, e.g. deploy or deployments logs')
    .action((path: string[]) => {
      let cmd = cli;
      for (const name of path) {
        const sub = cmd.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub) throw new UsageError(`No command "${path.join(' ')}"`, ['Run `slipway help` for the list']);
        cmd = sub;
      }
      cmd.outputHelp();
    });
  return cli;
}

function addServe(cli: Command, io: Io): Command {
  addSettingOptions(
    cli
      .command('serve')
      .description('Run the agent: the REST API, the deploy worker and the edge (--role splits them)'),
  ).action(async (opts) => (await import('./serve.ts')).serve(io.env, settingFlags(opts)));
  return cli;
}
