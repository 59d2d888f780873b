import { Elysia, t } from 'elysia';
import type { ExecService } from '../../exec/service.ts';
import type { ExecBridge } from '../../exec/bridge.ts';
import { MAX_TERMINAL_SIDE } from '../../exec/protocol.ts';
import { BadRequestError } from '../../errors.ts';
import { accessPlugin } from '../access.ts';
import { AUTH_ERRORS, errors } from '../schemas.ts';
import { ProjectParams } from '../projects/schema.ts';
import { checkOrigin, checkUpgrade, execRequestOf } from './request.ts';

const side = (what: string) =>
  t.Optional(t.Integer({ minimum: 1, maximum: MAX_TERMINAL_SIDE, description: `Initial terminal ${what}` }));

const DESCRIPTION = `A WebSocket handshake (\`Upgrade: websocket\`) that runs a command in a running instance of
the live release through Docker exec, as the container's own user, with its isolation.

Client to agent: binary frames are stdin; text frames are JSON, \`{"type":"resize","cols":120,"rows":40}\`
or \`{"type":"stdin_eof"}\` (closes stdin). Agent to client: binary frames whose first byte is the stream
(1 stdout, 2 stderr; with a TTY everything is stdout) followed by its bytes; text frames
\`{"type":"started","instance","tty"}\`, then \`{"type":"exit","code"}\` and a 1000 close, or
\`{"type":"error","code","message"}\` and a close 4408 (idle timeout), 4400 (bad message) or 4500.

Limits: SLIPWAY_EXEC_IDLE_TIMEOUT seconds without a frame either way end the session;
SLIPWAY_EXEC_MAX_SESSIONS per token (429 beyond). A handshake with an Origin other than the API's own
host is refused (403). Recorded in the activity log as project.exec with the command.`;

/** GET /v1/projects/{name}/exec: a command or a shell in a live instance, over a WebSocket. */
export function execRoutes(d: { exec: ExecService }) {
  return new Elysia().use(accessPlugin).get(
    '/projects/:name/exec',
    async ({ params, query, request, server, set, actor }) => {
      checkOrigin(request.headers);
      const wanted = execRequestOf(request.url, query);
      const picked = await d.exec.check(params.name, wanted.instance, actor);
      // Without the upgrade, the checks above answered what a handshake would get (the CLI's diagnosis).
      checkUpgrade(request.headers);
      const plan = d.exec.claim(params.name, picked, wanted, actor);
      let bridge: ExecBridge | undefined;
      const upgraded = server?.upgrade(request, {
        headers: set.headers as Record<string, string>,
        // Elysia's Bun adapter dispatches each socket's events to these handlers on its data.
        data: {
          open: (ws: Parameters<ExecService['open']>[1]) => void (bridge = d.exec.open(plan, ws)),
          message: (_ws: unknown, m: string | Uint8Array) => bridge?.message(m),
          close: () => (bridge ? bridge.closed() : plan.release()),
        },
      });
      if (upgraded) return;
      plan.release();
      throw new BadRequestError('The WebSocket handshake failed');
    },
    {
      access: { scope: 'admin', project: 'param' },
      params: ProjectParams,
      query: t.Object({
        cmd: t.Optional(
          t.Array(t.String(), {
            description:
              'The command, one argument per parameter, in order (?cmd=sh&cmd=-c&cmd=ls%20-l); never run through a shell. Default /bin/sh',
          }),
        ),
        tty: t.Optional(t.Boolean({ default: false, description: 'Allocate a terminal (an interactive shell)' })),
        cols: side('width'),
        rows: side('height'),
        instance: t.Optional(
          t.String({ maxLength: 64, description: 'The instance (as in the logs), else the first running one' }),
        ),
      }),
      detail: {
        summary: 'Run a command in a live instance (WebSocket)',
        description: DESCRIPTION,
        tags: ['Lifecycle'],
      },
      response: {
        101: t.Void({ description: 'Switching Protocols: the session runs over the WebSocket' }),
        ...errors(400, 404, 409, 422, ...AUTH_ERRORS),
      },
    },
  );
}
