/** `slipway logs` (runtime logs of the live containers, -f to stream) and `slipway metrics`. */
import { Option, type Command } from 'commander';
import type { Colors } from 'picocolors/types';
import { seg } from './client.ts';
import { intOption, projectOf, withProject, type Ctx } from './context.ts';
import { CliError, FailedError, UnreachableError, UsageError } from './errors.ts';
import { colorsFor, out } from './io.ts';
import { formatBytes, formatDuration, printJson, printTable } from './output.ts';
import { sseEvents } from './sse.ts';
import type { LogLine, Metric } from './api-types.ts';

interface LogsOptions {
  project?: string;
  follow?: boolean;
  tail: number;
  since?: string;
  json?: boolean;
}

/** `--since`: an ISO time as is, or a duration (`90s`, `10m`, `2h`, `1d`) before `now`, as an ISO time. */
export function parseSince(raw: string, now: number): string {
  const m = /^(\d+)(s|m|h|d)$/.exec(raw);
  if (m) return new Date(now - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's']! * 1000).toISOString();
  if (!Number.isNaN(Date.parse(raw)) && /^\d{4}-\d\d-\d\d/.test(raw)) return new Date(raw).toISOString();
  throw new UsageError(`--since must be a duration such as 10m or 2h, or an ISO time, not "${raw}"`);
}

/** One runtime log line for people: time, instance (yellow for stderr), the line. */
export function formatLogLine(l: LogLine, c: Colors): string {
  const instance = l.stream === 'stderr' ? c.yellow(l.instance) : c.cyan(l.instance);
  return `${c.dim(l.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))} ${instance} ${l.line}`;
}

/** Registers `logs` and `metrics`. */
export function registerLogs(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  withProject(cli.command('logs').description('Runtime logs of the live containers'))
    .option('-f, --follow', 'keep streaming new lines (Ctrl-C to stop)')
    .addOption(
      new Option('-n, --tail <lines>', 'lines to show from the end')
        .default(100)
        .argParser(intOption('--tail', 0, 10_000)),
    )
    .option('--since <when>', 'only lines since a duration ago (10m, 2h) or an ISO time')
    .option('--json', 'print each line as a JSON object (one per line)')
    .action(async (opts: LogsOptions) => {
      const project = projectOf(ctx, opts);
      const c = colorsFor(io);
      const print = (l: LogLine) => out(io, opts.json ? JSON.stringify(l) : formatLogLine(l, c));
      const query = { tail: opts.tail, since: opts.since === undefined ? undefined : parseSince(opts.since, io.now()) };
      const path = `/v1/projects/${seg(project)}/logs`;
      if (!opts.follow) {
        const { data } = await ctx.client().get<{ data: LogLine[] }>(path, query);
        for (const l of data) print(l);
        return;
      }
      await followRuntimeLogs(ctx, path, query, print);
    });

  withProject(cli.command('metrics').description('CPU, memory, network and disk use of each container'))
    .option('--json', 'print JSON')
    .action(async (opts: { project?: string; json?: boolean }) => {
      const project = projectOf(ctx, opts);
      const { data } = await ctx.client().get<{ data: Metric[] }>(`/v1/projects/${seg(project)}/metrics`);
      if (opts.json) return printJson(io, data);
      const rows = data.map((m) => [
        m.instance,
        `${m.cpu_percent.toFixed(1)}%`,
        `${formatBytes(m.memory_bytes)}${m.memory_limit_bytes ? ` / ${formatBytes(m.memory_limit_bytes)}` : ''}`,
        `${formatBytes(m.network_rx_bytes)} / ${formatBytes(m.network_tx_bytes)}`,
        `${formatBytes(m.block_read_bytes)} / ${formatBytes(m.block_write_bytes)}`,
        String(m.restarts),
        formatDuration(m.uptime_seconds * 1000),
      ]);
      printTable(
        io,
        colorsFor(io),
        ['instance', 'cpu', 'memory', 'net rx / tx', 'disk r / w', 'restarts', 'up'],
        rows,
        `${project} has no running container`,
      );
    });
}

/** Streams runtime logs until the agent ends the stream or Ctrl-C (which ends the command normally). */
async function followRuntimeLogs(
  ctx: Ctx,
  path: string,
  query: Record<string, string | number | undefined>,
  print: (l: LogLine) => void,
): Promise<void> {
  const controller = new AbortController();
  const stop = ctx.io.onInterrupt(() => controller.abort());
  try {
    const res = await ctx.client().request('GET', path, {
      query: { ...query, follow: true },
      headers: { accept: 'text/event-stream' },
      signal: controller.signal,
    });
    for await (const ev of sseEvents(res.body!)) {
      if (ev.event === 'error')
        throw new FailedError(
          `The agent stopped the log stream: ${(JSON.parse(ev.data) as { message: string }).message}`,
        );
      if (ev.event === 'message' && ev.data) print(JSON.parse(ev.data) as LogLine);
    }
  } catch (err) {
    if (controller.signal.aborted) return;
    if (err instanceof CliError) throw err;
    throw new UnreachableError(`The log stream broke: ${(err as Error).message}`);
  } finally {
    stop();
  }
}
