/** `slipway mcp`: the MCP server for AI agents; the SDK is loaded only when this command runs. */
import type { Command } from 'commander';
import type { Ctx } from './context.ts';

/** Registers `mcp`. */
export function registerMcp(cli: Command, ctx: Ctx): void {
  cli
    .command('mcp')
    .description('Run a Model Context Protocol server on stdio for AI agents, with this login and its scope')
    .addHelpText(
      'after',
      '\nAdd it to an MCP client, e.g. {"command": "slipway", "args": ["mcp"], "env": {"SLIPWAY_URL": "…", "SLIPWAY_TOKEN": "slw_…"}}.\nA read token gets the read tools only; deploy_directory and rollback need a deploy token.',
    )
    .action(async () => {
      const { serveMcp } = await import('../mcp/server.ts');
      await serveMcp(ctx.client(), ctx.io.cwd);
    });
}
