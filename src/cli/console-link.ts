/**
 * `slipway console-link`: prints a one-time link that signs a browser in to the console as admin.
 * It runs on the host, straight in the data directory's database (like `tokens create --local`):
 * whoever can read that directory is an admin already. The code travels in the URL's fragment,
 * which browsers never send to a server, so it stays out of proxies' logs; the console posts it
 * once and removes it from the address bar.
 */
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import type { createDeps as CreateDeps } from '../deps.ts';
import { LOGIN_LINK_SECONDS } from '../sessions/service.ts';
import { note, out, type Io } from './io.ts';
import { addSettingOptions, settingFlags } from './settings-options.ts';

/** Registers `console-link`. */
export function registerConsoleLink(cli: Command, io: Io): void {
  addSettingOptions(
    cli
      .command('console-link')
      .description(
        `Print a one-time link that signs a browser in to the web console (valid ${LOGIN_LINK_SECONDS / 60} minutes)`,
      ),
    ['dataDir', 'apiListen', 'apiDomain', 'logLevel'],
  ).action((opts: Record<string, string | undefined>) => {
    const config = loadConfig(io.env, settingFlags(opts));
    // The agent's services load only for this command, not for every CLI start.
    const { createDeps } = require('../deps.ts') as { createDeps: typeof CreateDeps };
    const deps = createDeps(config);
    try {
      const link = deps.sessions.createLink({
        tokenId: null,
        tokenName: 'slipway console-link',
        requestId: null,
        clientIp: null,
      });
      out(io, `${consoleUrl(config)}#link=${link.code}`);
      note(io, `The link works once, until ${link.expires_at}.`);
      if (!config.apiDomain) {
        const port = config.apiListen.port;
        note(io, `From another machine, open an SSH tunnel first: ssh -L ${port}:127.0.0.1:${port} <this host>`);
      }
    } finally {
      deps.close();
    }
  });
}

/** The console's address: the API domain over HTTPS when there is one, else the API listener. */
export function consoleUrl(config: Pick<Config, 'apiDomain' | 'apiListen'>): string {
  if (config.apiDomain) return `https://${config.apiDomain}/console/`;
  const { hostname, port } = config.apiListen;
  const host = hostname === '0.0.0.0' || hostname === '::' || hostname === '' ? '127.0.0.1' : hostname;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/console/`;
}
