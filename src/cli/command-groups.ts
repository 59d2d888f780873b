/**
 * The register functions of program.ts, each loadable on its own: `slipway status` imports and
 * builds only `status`, not the other ~90 commands and ~230 options of the whole tree (about half
 * of a CLI start's CPU time). Keyed by a name of their own; command-index.ts records which one adds
 * each top-level command. A command whose register function is not here still works: its
 * invocations build the whole tree (test/cli/launch.test.ts says which are missing).
 */
import type { Command } from 'commander';
import type { Ctx } from './context.ts';

/** Adds one or more top-level commands to `cli`. */
export type Register = (cli: Command, ctx: Ctx) => void;

export const GROUPS: Record<string, () => Promise<Register>> = {
  login: async () => (await import('./login.ts')).registerLogin,
  deploy: async () => (await import('./deploy.ts')).registerDeploy,
  status: async () => (await import('./status.ts')).registerStatus,
  projects: async () => (await import('./projects.ts')).registerProjects,
  deployments: async () => (await import('./deployments.ts')).registerDeployments,
  logs: async () => (await import('./logs.ts')).registerLogs,
  env: async () => (await import('./env.ts')).registerEnv,
  domains: async () => {
    const [{ registerDomains }, { addDomainCertificateCommands }] = await Promise.all([
      import('./domains.ts'),
      import('./certificates.ts'),
    ]);
    return (cli, ctx) => {
      registerDomains(cli, ctx);
      addDomainCertificateCommands(cli.commands.find((c) => c.name() === 'domains')!, ctx);
    };
  },
  db: async () => (await import('./db.ts')).registerDb,
  volumes: async () => (await import('./volumes.ts')).registerVolumes,
  backup: async () => (await import('./backup.ts')).registerBackup,
  certificates: async () => (await import('./certificates.ts')).registerCertificates,
  tokens: async () => (await import('./tokens.ts')).registerTokens,
  activity: async () => (await import('./activity.ts')).registerActivity,
  registries: async () => (await import('./registries.ts')).registerRegistries,
  webhooks: async () => (await import('./webhooks.ts')).registerWebhooks,
  exec: async () => (await import('./exec.ts')).registerExec,
  mcp: async () => (await import('./mcp.ts')).registerMcp,
  nodes: async () => (await import('./nodes.ts')).registerNodes,
  doctor: async () => withIo((await import('./doctor.ts')).registerDoctor),
  install: async () => withIo((await import('./install.ts')).registerInstall),
  prepareBuilds: async () => withIo((await import('./prepare-builds.ts')).registerPrepareBuilds),
  consoleLink: async () => withIo((await import('./console-link.ts')).registerConsoleLink),
  serve: async () => withIo((await import('./agent-command.ts')).addServe),
};

/** A register function that takes the Io rather than the context. */
function withIo(register: (cli: Command, io: Ctx['io']) => unknown): Register {
  return (cli, ctx) => void register(cli, ctx.io);
}
