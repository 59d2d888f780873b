/** The `slipway` command tree: every command, `help <command…>`, and the exit codes in the help. */
import type { Command } from 'commander';
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

import { createRoot } from './root.ts';
import { addServe } from './agent-command.ts';
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

/**
 * Builds the command tree for one invocation; output goes to `io`, commander never exits the process.
 * `command` is the invocation's first argument: for `serve` only that command is registered, since
 * building the other ~80 commands and their options is ~10 ms of the agent's start for nothing.
 */
export function buildProgram(io: Io, command?: string): Command {
  const ctx = createCtx(io);
  const cli = createRoot(io);
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
