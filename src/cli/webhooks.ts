/** `slipway webhooks …` (admin) and `slipway dead-letter`: notifications out, and what gave up. */
import { Option, type Command } from 'commander';
import { EVENT_TYPES } from '../events/bus.ts';
import type { DeadLetterItem, RetryResult } from '../ops/dead-letter.ts';
import type { DeliveryView, WebhookView } from '../webhooks/view.ts';
import { seg } from './client.ts';
import { checkProjectName, intOption, type Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { colorsFor, note, out } from './io.ts';
import { ago, cell, printJson, printTable } from './output.ts';

const KINDS = ['deployment', 'webhook_delivery', 'backup', 'certificate_renewal'];

/** Registers `webhooks` and `dead-letter`. */
export function registerWebhooks(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const hooks = cli
    .command('webhooks')
    .description('Signed HTTP notifications of deployments, domains, certificates and backups (admin)');
  hooks
    .command('add')
    .description('Add a webhook; prints its signing secret once, alone on stdout')
    .argument('<url>', 'where to POST the events (http:// or https://)')
    .requiredOption('-e, --event <event...>', `events to send: ${EVENT_TYPES.join(', ')}, or all`)
    .option('-p, --project <name>', "only this project's events")
    .option('--description <text>', 'a note for people')
    .action(async (url: string, opts: { event: string[]; project?: string; description?: string }) => {
      const events = opts.event.includes('all') ? [...EVENT_TYPES] : opts.event;
      const unknown = events.filter((e) => !(EVENT_TYPES as readonly string[]).includes(e));
      if (unknown.length > 0)
        throw new UsageError(`Unknown event ${unknown.join(', ')}`, [`Events: ${EVENT_TYPES.join(', ')}, all`]);
      const made = await ctx.client().json<WebhookView & { secret: string }>('POST', '/v1/webhooks', {
        body: {
          url,
          events,
          project: opts.project === undefined ? null : checkProjectName(opts.project),
          description: opts.description ?? null,
        },
      });
      note(io, `Added webhook ${made.id} for ${made.events.join(', ')}. Its signing secret is shown once:`);
      out(io, made.secret);
    });

  hooks
    .command('list')
    .alias('ls')
    .description('List the webhooks (never their secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<WebhookView>('/v1/webhooks');
      if (opts.json) return printJson(io, list);
      const rows = list.map((h) => [h.id, h.url, h.events.join(','), h.project ?? 'all', cell(h.description)]);
      printTable(io, colorsFor(io), ['id', 'url', 'events', 'project', 'description'], rows, 'No webhooks');
    });

  hooks
    .command('rm')
    .alias('remove')
    .description('Remove a webhook and its deliveries')
    .argument('<id>', 'whk_…')
    .action(async (id: string) => {
      await ctx.client().json('DELETE', `/v1/webhooks/${seg(id)}`);
      out(io, `Removed webhook ${id}`);
    });

  hooks
    .command('deliveries')
    .description("A webhook's deliveries, newest first: status, attempts, last response and duration")
    .argument('<id>', 'whk_…')
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(intOption('--limit', 1, 1000)))
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { limit: number; json?: boolean }) => {
      const list = await ctx.client().list<DeliveryView>(`/v1/webhooks/${seg(id)}/deliveries`, {}, opts.limit);
      if (opts.json) return printJson(io, list);
      const rows = list.map((d) => [
        d.id,
        d.event,
        d.status,
        String(d.attempts),
        cell(d.response_code),
        d.duration_ms === null ? '-' : `${d.duration_ms} ms`,
        ago(d.created_at, io.now()),
        cell(d.error),
      ]);
      const headers = ['id', 'event', 'status', 'attempts', 'code', 'took', 'created', 'error'];
      printTable(io, colorsFor(io), headers, rows, 'No deliveries');
    });

  hooks
    .command('redeliver')
    .description("Send a delivery's event again, as a new delivery")
    .argument('<id>', 'the webhook, whk_…')
    .argument('<delivery>', 'the delivery, whd_…')
    .action(async (id: string, delivery: string) => {
      const made = await ctx
        .client()
        .json<DeliveryView>('POST', `/v1/webhooks/${seg(id)}/deliveries/${seg(delivery)}/redeliver`);
      out(io, `Queued delivery ${made.id} of ${made.event}`);
    });

  registerDeadLetter(cli, ctx);
}

function registerDeadLetter(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const dead = cli
    .command('dead-letter')
    .description('What gave up, newest first: failed deployments, webhook deliveries, backups, certificate renewals')
    .option('-p, --project <name>', 'only this project')
    .option('--kind <kind>', KINDS.join(', '))
    .addOption(new Option('-n, --limit <n>', 'how many').default(20).argParser(intOption('--limit', 1, 1000)))
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; kind?: string; limit: number; json?: boolean }) => {
      if (opts.kind !== undefined && !KINDS.includes(opts.kind))
        throw new UsageError(`--kind must be one of ${KINDS.join(', ')}`);
      const query = {
        project: opts.project === undefined ? undefined : checkProjectName(opts.project),
        kind: opts.kind,
      };
      const list = await ctx.client().list<DeadLetterItem>('/v1/ops/dead-letter', query, opts.limit);
      if (opts.json) return printJson(io, list);
      const rows = list.map((i) => [ago(i.failed_at, io.now()), i.kind, i.id, cell(i.project), cell(i.reason)]);
      printTable(io, colorsFor(io), ['failed', 'kind', 'id', 'project', 'reason'], rows, 'Nothing gave up');
    });
  dead
    .command('retry')
    .description('Retry an item: rebuild, redeliver, back up again or renew')
    .argument('<kind>', KINDS.join(', '))
    .argument('<id>', 'the id the list shows')
    .action(async (kind: string, id: string) => {
      if (!KINDS.includes(kind)) throw new UsageError(`<kind> must be one of ${KINDS.join(', ')}`);
      const r = await ctx.client().json<RetryResult>('POST', `/v1/ops/dead-letter/${seg(kind)}/${seg(id)}/retry`);
      out(io, r.message);
    });
}
