/**
 * Certificates from the command line: `slipway certificates list`, the base domain's wildcard
 * (`slipway certificates base-domain show|set|rm`), and a domain's own certificate
 * (`slipway domains renew <hostname>`, `slipway domains certificate set|rm <hostname>`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Colors } from 'picocolors/types';
import { seg } from './client.ts';
import { projectOf, withProject, type Ctx } from './context.ts';
import { UsageError } from './errors.ts';
import { colorsFor, note, out, type Io } from './io.ts';
import { keyValues, printJson, printTable } from './output.ts';
import type { Certificate } from './api-types.ts';

/** Days left under which a certificate is shown as a warning, as on /metrics. */
const WARN_DAYS = 14;

/** Registers `certificates`. */
export function registerCertificates(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const certificates = cli
    .command('certificates')
    .description('TLS certificates the edge serves: expiry, renewal, the wildcard');
  certificates
    .command('list')
    .alias('ls')
    .description('Every certificate with its expiry and renewal state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { data } = await ctx.client().get<{ data: Certificate[] }>('/v1/certificates');
      if (opts.json) return printJson(io, data);
      printCertificates(io, data);
    });

  const base = certificates.command('base-domain').description("The base domain's wildcard certificate (admin)");
  base
    .command('show')
    .description('Show the wildcard certificate')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const certificate = await ctx.client().get<Certificate>('/v1/certificates/base-domain');
      if (opts.json) return printJson(io, certificate);
      printOne(io, certificate);
    });
  uploadOptions(base.command('set').description('Upload a wildcard certificate for *.<base-domain>')).action(
    async (opts: UploadOptions) => {
      const certificate = await ctx
        .client()
        .json<Certificate>('PUT', '/v1/certificates/base-domain', { body: readUpload(io, opts) });
      if (opts.json) return printJson(io, certificate);
      note(io, `Uploaded the wildcard certificate for ${certificate.hostname}`);
      printOne(io, certificate);
    },
  );
  base
    .command('rm')
    .description('Remove the wildcard certificate')
    .action(async () => {
      await ctx.client().json('DELETE', '/v1/certificates/base-domain');
      note(io, 'Removed the wildcard certificate');
    });
}

/**
 * Adds `renew` and `certificate set|rm` to the `domains` command group: a domain's certificate
 * renewed now, uploaded, or removed.
 */
export function addDomainCertificateCommands(domains: Command, ctx: Ctx): void {
  const { io } = ctx;
  const path = (opts: { project?: string }, hostname: string) =>
    `/v1/projects/${seg(projectOf(ctx, opts))}/domains/${seg(hostname)}/certificate`;
  withProject(
    domains
      .command('renew')
      .description("Renew a domain's certificate now (or order its first); the CA's limits still apply")
      .argument('<hostname>'),
  )
    .option('--json', 'print JSON')
    .action(async (hostname: string, opts: { project?: string; json?: boolean }) => {
      note(io, `Ordering a new certificate for ${hostname}…`);
      const certificate = await ctx.client().json<Certificate>('POST', `${path(opts, hostname)}/renew`);
      if (opts.json) return printJson(io, certificate);
      printOne(io, certificate);
    });

  const cert = domains.command('certificate').description("A domain's own certificate (bring your own)");
  uploadOptions(
    withProject(cert.command('set').description('Upload a certificate for a domain').argument('<hostname>')),
  ).action(async (hostname: string, opts: UploadOptions & { project?: string }) => {
    const certificate = await ctx
      .client()
      .json<Certificate>('PUT', path(opts, hostname), { body: readUpload(io, opts) });
    if (opts.json) return printJson(io, certificate);
    note(io, `Uploaded the certificate of ${certificate.hostname}; Slipway will not renew it`);
    printOne(io, certificate);
  });
  withProject(
    cert
      .command('rm')
      .description("Remove a domain's certificate (with ACME on, a new one is ordered)")
      .argument('<hostname>'),
  ).action(async (hostname: string, opts: { project?: string }) => {
    await ctx.client().json('DELETE', path(opts, hostname));
    note(io, `Removed the certificate of ${hostname}`);
  });
}

/** The certificates section of `slipway status`, and `certificates list`. */
export function printCertificates(io: Io, certificates: Certificate[]): void {
  const c = colorsFor(io);
  const rows = certificates.map((cert) => [
    cert.hostname,
    cert.source,
    cert.issuer,
    cert.not_after.slice(0, 10),
    daysLeft(cert, c),
    renewal(cert, c),
  ]);
  printTable(io, c, ['certificate', 'source', 'issuer', 'expires', 'days left', 'renewal'], rows, 'No certificates');
}

function printOne(io: Io, cert: Certificate): void {
  const c = colorsFor(io);
  out(
    io,
    keyValues(
      [
        ['hostname', cert.hostname],
        ['source', cert.source],
        ['issuer', cert.issuer],
        ['serial', cert.serial],
        ['valid', `${cert.not_before} to ${cert.not_after} (${daysLeft(cert, c)} days left)`],
        ['renewal', renewal(cert, c)],
      ],
      c,
    ),
  );
}

function daysLeft(cert: Certificate, c: Colors): string {
  const text = String(cert.days_left);
  if (cert.days_left < 0) return c.red(`${text} (expired)`);
  return cert.days_left < WARN_DAYS ? c.yellow(`${text} (expires soon)`) : text;
}

function renewal(cert: Certificate, c: Colors): string {
  if (cert.source === 'uploaded') return 'never (uploaded)';
  if (cert.renewal.failures > 0) {
    return c.red(
      `failing (${cert.renewal.failures}×): ${cert.renewal.last_error ?? '?'}; next ${cert.renewal.next_attempt_at}`,
    );
  }
  return `at ${cert.renew_at?.slice(0, 10) ?? '-'}`;
}

interface UploadOptions {
  cert: string;
  key: string;
  json?: boolean;
}

function uploadOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--cert <file>', 'PEM file: the certificate, then its intermediates')
    .requiredOption('--key <file>', 'PEM file: its private key, unencrypted')
    .option('--json', 'print JSON');
}

function readUpload(io: Io, opts: UploadOptions): { certificate: string; private_key: string } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(resolve(io.cwd, file), 'utf8');
    } catch (err) {
      throw new UsageError(
        `Cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  };
  return { certificate: read(opts.cert, 'certificate'), private_key: read(opts.key, 'key') };
}
