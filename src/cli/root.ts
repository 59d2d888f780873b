/** The root of the `slipway` command tree: its description, version, output and the footer of its help. */
import { Command } from 'commander';
import { VERSION } from '../version.ts';
import type { Io } from './io.ts';

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

/** The `slipway` command without its commands; output goes to `io`, commander never exits the process. */
export function createRoot(io: Io): Command {
  return new Command('slipway')
    .description('Self-hosted deploy agent: upload source, get a zero-downtime deploy. The same executable is the CLI.')
    .version(VERSION, '-v, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .showHelpAfterError('(add --help for usage)')
    .helpCommand(false)
    .addHelpText('after', HELP_FOOTER);
}
