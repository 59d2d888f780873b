/** `slipway domains …`: a project's custom domains: add, list, show, verify, update, rm. */
import type { Command } from 'commander';
import type { Colors } from 'picocolors/types';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { FailedError, UsageError } from './errors.ts';
import { colorsFor, note, out, type Io } from './io.ts';
import { ago, keyValues, printJson, printTable } from './output.ts';
import type { Domain } from './api-types.ts';

interface ProjectOpts {
  project?: string;
  json?: boolean;
}

/** Registers the `domains` group. */
export function registerDomains(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const domains = cli
    .command('domains')
    .description(
      "A project's custom domains: routed at once, verified through DNS, served over HTTPS once a certificate is issued",
    );
  const path = (project: string, hostname?: string) =>
    `/v1/projects/${seg(project)}/domains${hostname === undefined ? '' : `/${seg(hostname)}`}`;

  withProject(
    domains.command('add').description('Add a host name; prints the DNS records to create').argument('<hostname>'),
  )
    .option('--no-redirect', 'keep serving HTTP visitors over HTTP once a certificate is active')
    .option('--hsts', 'send Strict-Transport-Security on HTTPS')
    .option('--json', 'print JSON')
    .action(async (hostname: string, opts: ProjectOpts & { redirect: boolean; hsts?: boolean }) => {
      const project = projectOf(ctx, opts);
      const d = await ctx.client().json<Domain>('POST', path(project), {
        body: { hostname, redirect_to_https: opts.redirect, hsts: opts.hsts === true },
      });
      if (opts.json) return printJson(io, d);
      out(io, `Added ${d.hostname} to ${project}: ${status(d, colorsFor(io))}`);
      explain(io, d);
    });

  withProject(domains.command('list').alias('ls').description("List the project's domains"))
    .option('--json', 'print JSON')
    .action(async (opts: ProjectOpts) => {
      const project = projectOf(ctx, opts);
      const list = await ctx.client().list<Domain>(path(project));
      if (opts.json) return printJson(io, list);
      const c = colorsFor(io);
      const rows = list.map((d) => [
        d.hostname,
        status(d, c),
        d.certificate ? `until ${d.certificate.not_after.slice(0, 10)}` : '-',
        d.last_check?.message ?? '-',
        ago(d.last_check?.at ?? null, io.now()),
      ]);
      printTable(io, c, ['hostname', 'status', 'certificate', 'found', 'checked'], rows, `No domains on ${project}`);
    });

  withProject(
    domains
      .command('show')
      .description('Show a domain, the DNS records to create and the last check')
      .argument('<hostname>'),
  )
    .option('--json', 'print JSON')
    .action(async (hostname: string, opts: ProjectOpts) => {
      const d = await ctx.client().get<Domain>(path(projectOf(ctx, opts), hostname));
      if (opts.json) return printJson(io, d);
      out(io, showDomain(d, io));
    });

  withProject(
    domains
      .command('verify')
      .description('Check the DNS now; exits 1 while the name does not reach this server')
      .argument('<hostname>'),
  )
    .option('--json', 'print JSON')
    .action(async (hostname: string, opts: ProjectOpts) => {
      const d = await ctx.client().json<Domain>('POST', `${path(projectOf(ctx, opts), hostname)}/verify`);
      if (opts.json) printJson(io, d);
      else out(io, `${d.hostname}: ${status(d, colorsFor(io))}${d.last_check ? ` (${d.last_check.message})` : ''}`);
      if (d.status === 'pending_dns' || d.status === 'failed')
        throw new FailedError(d.reason ?? `${d.hostname} is ${d.status}`, records(d));
      if (!opts.json && d.reason) note(io, d.reason);
    });

  withProject(domains.command('update').description("Change a domain's options").argument('<hostname>'))
    .option('--redirect', 'redirect HTTP visitors to HTTPS once a certificate is active')
    .option('--no-redirect', 'keep serving HTTP visitors over HTTP')
    .option('--hsts', 'send Strict-Transport-Security on HTTPS')
    .option('--no-hsts', 'stop sending Strict-Transport-Security')
    .option('--json', 'print JSON')
    .action(async (hostname: string, opts: ProjectOpts & { redirect?: boolean; hsts?: boolean }) => {
      if (opts.redirect === undefined && opts.hsts === undefined)
        throw new UsageError('Nothing to change: pass --redirect, --no-redirect, --hsts or --no-hsts');
      const d = await ctx.client().json<Domain>('PATCH', path(projectOf(ctx, opts), hostname), {
        body: { redirect_to_https: opts.redirect, hsts: opts.hsts },
      });
      if (opts.json) return printJson(io, d);
      out(io, `Updated ${d.hostname}: ${options(d)}`);
    });

  withProject(
    domains
      .command('rm')
      .alias('remove')
      .description('Remove a domain: the edge stops routing it')
      .argument('<hostname>'),
  ).action(async (hostname: string, opts: ProjectOpts) => {
    const project = projectOf(ctx, opts);
    await ctx.client().json('DELETE', path(project, hostname));
    out(io, `Removed ${hostname} from ${project}`);
  });
}

/** The `domains show` block: the domain, the records to create and the last check. */
export function showDomain(d: Domain, io: Io): string {
  const c = colorsFor(io);
  const check = d.last_check;
  const pairs: [string, string][] = [
    ['hostname', d.hostname],
    ['project', d.project],
    ['status', status(d, c)],
    ['reason', d.reason ?? '-'],
    ['next attempt', d.next_attempt_at ?? '-'],
    ['options', options(d)],
    ['last check', check ? `${check.message} (${check.method}, ${ago(check.at, io.now())})` : 'not yet'],
    [
      'certificate',
      d.certificate
        ? `${d.certificate.issuer}, serial ${d.certificate.serial}, ${d.certificate.not_before} to ${d.certificate.not_after} (${d.certificate.source})`
        : '-',
    ],
    ['added', d.created_at],
  ];
  const addressKnown = d.dns_records.some((r) => r.type !== 'TXT');
  const dns = addressKnown
    ? ['', 'DNS records to create:', ...records(d)]
    : [
        '',
        "DNS records to create: the address records are unknown, this server's public address is not known (SLIPWAY_PUBLIC_IPS)",
        ...records(d),
      ];
  return [keyValues(pairs, c), ...dns].join('\n');
}

/** After `add`: the reason, and the records to create while the name does not reach this server. */
function explain(io: Io, d: Domain): void {
  if (d.reason) note(io, d.reason);
  if (d.status === 'pending_dns' && d.dns_records.length > 0) {
    note(io, 'Create these DNS records, then run `slipway domains verify` (the agent also checks by itself):');
    for (const line of records(d)) note(io, line);
  }
}

/** One line per record; a TXT record proves the name is yours, and the edge routes it only once that is seen. */
function records(d: Domain): string[] {
  return d.dns_records.map((r) => `  ${r.type.padEnd(4)} ${r.name}  ${r.value}`);
}

function options(d: Domain): string {
  return `${d.redirect_to_https ? 'redirect to HTTPS' : 'no redirect'}, ${d.hsts ? 'HSTS' : 'no HSTS'}`;
}

/** A domain's status in its colour: green when it reaches this server, red when failed, yellow in between. */
function status(d: Domain, c: Colors): string {
  if (d.status === 'active' || d.status === 'verified') return c.green(d.status);
  if (d.status === 'failed') return c.red(d.status);
  return c.yellow(d.status);
}
