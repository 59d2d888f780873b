/**
 * `slipway backup create|list|verify` (through the agent; verify also works on a file, offline) and
 * `slipway restore <file> --data-dir <dir>` (offline, straight into a fresh data directory).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import type { KeySource } from '../backups/crypto.ts';
import { loadMasterKey } from '../secrets/master-key.ts';
import { seg } from './client.ts';
import type { Ctx } from './context.ts';
import { FailedError, UsageError } from './errors.ts';
import { colorsFor, note, out, type Io } from './io.ts';
import { ago, formatBytes, printJson, printTable, state } from './output.ts';
import type { Backup, BackupCheck } from './api-types.ts';

/** Registers `backup` and `restore`. */
export function registerBackup(cli: Command, ctx: Ctx): void {
  const { io } = ctx;
  const backup = cli.command('backup').description('Backups of the whole agent: state, databases, volumes, sources');

  backup
    .command('create')
    .description('Make a backup now and print where it is (a file under SLIPWAY_BACKUP_DIR, or s3://…)')
    .addOption(
      new Option('--destination <where>', 'local or s3 (default SLIPWAY_BACKUP_DESTINATION)').choices(['local', 's3']),
    )
    .option('--json', 'print JSON')
    .action(async (opts: { destination?: string; json?: boolean }) => {
      const body = opts.destination ? { destination: opts.destination } : {};
      const made = await ctx.client().json<Backup>('POST', '/v1/backups', { body });
      if (opts.json) return printJson(io, made);
      note(io, `Backup ${made.id}: ${formatBytes(made.bytes ?? 0)}, ${made.manifest?.parts.length ?? 0} parts`);
      out(io, made.location ?? '');
    });

  backup
    .command('list')
    .alias('ls')
    .description('List backups, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await ctx.client().list<Backup>('/v1/backups');
      if (opts.json) return printJson(io, list);
      const c = colorsFor(io);
      const rows = list.map((b) => [
        b.id,
        state(b.status, c),
        ago(b.created_at, io.now()),
        b.bytes === null ? '-' : formatBytes(b.bytes),
        b.location ?? b.error ?? '-',
      ]);
      printTable(
        io,
        c,
        ['id', 'status', 'created', 'size', 'location'],
        rows,
        'No backups yet: `slipway backup create`',
      );
    });

  withKeyOptions(
    backup
      .command('verify')
      .description('Check every part of a backup and test-restore its state; exits 1 when it would not restore')
      .argument('<backup>', 'a backup id (through the agent), or a backup file or s3:// location (offline)'),
  )
    .option('--data-dir <dir>', 'data directory whose master.key to use offline')
    .action(async (ref: string, opts: KeyOptions & { dataDir?: string }) => {
      const offline = ref.startsWith('s3://') || existsSync(resolve(io.cwd, ref));
      const check = offline
        ? await verifyOffline(io, ref, opts)
        : await ctx.client().json<BackupCheck>('POST', `/v1/backups/${seg(ref)}/verify`);
      if (!check.ok) throw new FailedError(`Backup ${ref} would not restore: ${check.error}`);
      out(io, `Backup ${ref} is intact: ${check.parts} parts match their checksums and its state opens`);
    });

  withKeyOptions(
    cli
      .command('restore')
      .description('Restore a backup into a fresh data directory; the next `serve` on it brings every project back')
      .argument('<backup>', 'a backup file, or s3://bucket/key (with the SLIPWAY_BACKUP_S3_* settings)'),
  )
    .requiredOption('--data-dir <dir>', 'the data directory to create (absent or empty)')
    .option('--only <project>', 'restore this project only')
    .action(async (ref: string, opts: KeyOptions & { dataDir: string; only?: string }) => {
      const config = configFor(io, opts.dataDir);
      const { key, masterKeyFile } = keyFor(io, config, opts);
      try {
        // The backup code (and the Docker client under it) loads only for the commands that use it.
        const [{ readBackup }, { restoreBackup }] = await Promise.all([
          import('../backups/destination.ts'),
          import('../backups/restore.ts'),
        ]);
        const source = readBackup(ref.startsWith('s3://') ? ref : resolve(io.cwd, ref), config);
        await restoreBackup({
          source,
          dataDir: resolve(io.cwd, opts.dataDir),
          config,
          key,
          masterKeyFile,
          only: opts.only ?? null,
          say: (line) => note(io, line),
        });
      } catch (err) {
        throw new FailedError(`Cannot restore ${ref}: ${(err as Error).message}`, [
          'Nothing was restored: the data directory is as it was',
        ]);
      }
      out(io, resolve(io.cwd, opts.dataDir));
    });
}

interface KeyOptions {
  masterKeyFile?: string;
}

function withKeyOptions(cmd: Command): Command {
  return cmd.option(
    '--master-key-file <file>',
    'the master key (base64, as in <data-dir>/master.key); else SLIPWAY_MASTER_KEY. Not needed with SLIPWAY_BACKUP_PASSPHRASE',
  );
}

function configFor(io: Io, dataDir: string | undefined): Config {
  try {
    return loadConfig(io.env, dataDir ? { 'data-dir': resolve(io.cwd, dataDir) } : {});
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** The key that opens backups: the passphrase setting, else the master key from a file, the env or a data directory. */
function keyFor(
  io: Io,
  config: Config,
  opts: KeyOptions & { keyDir?: string },
): { key: KeySource; masterKeyFile: string | null } {
  const fileText = opts.masterKeyFile ? readFileSync(resolve(io.cwd, opts.masterKeyFile), 'utf8').trim() : null;
  let master: Buffer | null = null;
  try {
    if (fileText !== null) master = loadMasterKey({ envKey: fileText, credentialsDirectory: null, dataDir: '' });
    else if (
      config.masterKey ||
      config.credentialsDirectory ||
      (opts.keyDir && existsSync(join(opts.keyDir, 'master.key')))
    )
      master = loadMasterKey({
        envKey: config.masterKey,
        credentialsDirectory: config.credentialsDirectory,
        dataDir: opts.keyDir ?? config.dataDir,
      });
  } catch (err) {
    throw new UsageError(`The master key cannot be read: ${(err as Error).message}`);
  }
  if (config.backupPassphrase)
    return { key: { kind: 'passphrase', passphrase: config.backupPassphrase }, masterKeyFile: fileText };
  if (!master)
    throw new UsageError('A backup opens with the master key: pass --master-key-file <file> or set SLIPWAY_MASTER_KEY');
  return { key: { kind: 'master-key', key: master }, masterKeyFile: fileText };
}

async function verifyOffline(io: Io, ref: string, opts: KeyOptions & { dataDir?: string }): Promise<BackupCheck> {
  const config = configFor(io, opts.dataDir);
  const { key } = keyFor(io, config, { ...opts, keyDir: opts.dataDir ? resolve(io.cwd, opts.dataDir) : undefined });
  const location = ref.startsWith('s3://') ? ref : resolve(io.cwd, ref);
  const tmp = join(resolve(io.cwd, opts.dataDir ?? '.'), 'tmp');
  const [{ readBackup }, { verifyBackup }] = await Promise.all([
    import('../backups/destination.ts'),
    import('../backups/service.ts'),
  ]);
  const result = await verifyBackup(readBackup(location, config), key, tmp);
  return { id: ref, ...result, checked_at: new Date().toISOString() };
}
