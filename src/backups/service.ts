import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { BackupRepo, BackupRow } from '../db/backups.ts';
import { MIGRATIONS } from '../db/migrate.ts';
import type { ActivityService, Actor } from '../activity/service.ts';
import { AppError, ConflictError, NotFoundError } from '../errors.ts';
import { newId, nowIso } from '../ids.ts';
import { decodeCursor, toPage, type Page } from '../db/pagination.ts';
import { type BackupSources, makeBackup } from './create.ts';
import { BackupDamagedError, type KeySource } from './crypto.ts';
import { localBackupDir, localDestination, readBackup, removeBackup, s3Destination } from './destination.ts';
import type { BackupManifest } from './manifest.ts';
import { unpackBackup } from './read.ts';
import { keptByRetention } from './schedule.ts';

/** A backup as the API shows it. */
export interface BackupView {
  id: string;
  trigger: BackupRow['trigger'];
  destination: BackupRow['destination'];
  status: BackupRow['status'];
  location: string | null;
  bytes: number | null;
  sha256: string | null;
  error: string | null;
  created_at: string;
  finished_at: string | null;
  manifest: BackupManifest | null;
}

/** What verifying found. */
export interface VerifyResult {
  id: string;
  ok: boolean;
  error: string | null;
  parts: number;
  checked_at: string;
}

/** What the backup service needs. */
export interface BackupServiceDeps extends BackupSources {
  config: Config;
  repo: BackupRepo;
  activity: ActivityService;
  key: KeySource;
}

/** The actor scheduled backups are recorded as. */
export const SCHEDULER: Actor = { tokenId: null, tokenName: 'backup schedule', requestId: null, clientIp: null };

/** Backups of everything: make one (at most one at a time), list, verify, prune by retention. */
export function backupService(d: BackupServiceDeps) {
  let running: string | null = null;

  const view = (row: BackupRow): BackupView => ({
    id: row.id,
    trigger: row.trigger,
    destination: row.destination,
    status: row.status,
    location: row.location,
    bytes: row.bytes,
    sha256: row.sha256,
    error: row.error,
    created_at: row.created_at,
    finished_at: row.finished_at,
    manifest: row.manifest ? (JSON.parse(row.manifest) as BackupManifest) : null,
  });

  const destinationOf = (kind: 'local' | 's3') =>
    kind === 's3' ? s3Destination(d.config) : localDestination(localBackupDir(d.config));

  /** Deletes the complete backups of `kind` that retention does not keep. */
  async function prune(kind: 'local' | 's3'): Promise<string[]> {
    const all = d.repo.complete(kind);
    const kept = keptByRetention(all, d.config.backupRetention);
    const pruned: string[] = [];
    for (const row of all.filter((r) => !kept.has(r.id))) {
      try {
        if (row.location) await removeBackup(row.location, d.config);
        d.repo.remove(row.id);
        pruned.push(row.id);
      } catch (err) {
        d.log.warn('pruning a backup failed', { backup: row.id, error: String(err) });
      }
    }
    if (pruned.length > 0) {
      d.activity.record(SCHEDULER, {
        action: 'backup.prune',
        targetType: 'backup',
        target: kind,
        changes: { pruned },
      });
      d.log.info('backups pruned by retention', { destination: kind, pruned });
    }
    return pruned;
  }

  return {
    /** Makes a backup now; 409 while another runs. A failure is recorded (row, activity, log) and thrown. */
    async create(actor: Actor, trigger: BackupRow['trigger'], kind = d.config.backupDestination): Promise<BackupView> {
      if (running) throw new ConflictError(`Cannot start a backup: backup ${running} is still running`);
      const destination = destinationOf(kind);
      const row: BackupRow = {
        id: newId('bak'),
        trigger,
        destination: kind,
        status: 'running',
        location: null,
        bytes: null,
        sha256: null,
        manifest: null,
        error: null,
        created_at: nowIso(),
        finished_at: null,
      };
      d.repo.insert(row);
      running = row.id;
      const staging = join(d.dataDir, 'tmp', `backup-${row.id}`);
      mkdirSync(staging, { recursive: true, mode: 0o700 });
      d.log.info('backup started', { backup: row.id, destination: kind, trigger });
      try {
        const made = await makeBackup(d, { id: row.id, createdAt: row.created_at, key: d.key, destination, staging });
        const done: BackupRow = {
          ...row,
          status: 'complete',
          location: made.location,
          bytes: made.bytes,
          sha256: made.sha256,
          manifest: JSON.stringify(made.manifest),
          finished_at: nowIso(),
        };
        d.db.transaction(() => {
          d.repo.finish(done);
          d.activity.record(actor, {
            action: 'backup.create',
            targetType: 'backup',
            target: row.id,
            changes: { location: made.location, bytes: made.bytes, trigger },
          });
        })();
        d.log.info('backup complete', { backup: row.id, location: made.location, bytes: made.bytes });
        await prune(kind);
        return view(d.repo.find(row.id) ?? done);
      } catch (err) {
        const error = (err as Error).message;
        d.db.transaction(() => {
          d.repo.finish({ ...row, status: 'failed', error, finished_at: nowIso() });
          d.activity.record(actor, {
            action: 'backup.fail',
            targetType: 'backup',
            target: row.id,
            changes: { error, trigger },
          });
        })();
        d.log.error('backup failed', { backup: row.id, error });
        throw new AppError('internal_error', `Backup ${row.id} failed: ${error}`);
      } finally {
        running = null;
        await rm(staging, { recursive: true, force: true });
      }
    },

    /** Newest first. */
    list(q: { cursor?: string; limit: number }): Page<BackupView> {
      const before = decodeCursor('backups', q.cursor, 'string') ?? '\uffff';
      const rows = d.repo.list({ before, limit: q.limit + 1 });
      const page = toPage(rows, q.limit, (r) => r.id, 'backups');
      return { data: page.data.map(view), pagination: page.pagination };
    },

    get(id: string): BackupView {
      const row = d.repo.find(id);
      if (!row) throw new NotFoundError(`No backup with id "${id}"`);
      return view(row);
    },

    /**
     * Reads the whole backup back from its destination, checks every part against the manifest,
     * and restores the state into a temporary directory to check it opens (integrity check, a
     * schema this Slipway can migrate). Recorded in the activity log.
     */
    async verify(actor: Actor, id: string): Promise<VerifyResult> {
      const row = d.repo.find(id);
      if (!row) throw new NotFoundError(`No backup with id "${id}"`);
      if (row.status !== 'complete' || !row.location)
        throw new ConflictError(`Cannot verify backup ${id}: it is ${row.status}`);
      const result = await verifyBackup(readBackup(row.location, d.config), d.key, join(d.dataDir, 'tmp'));
      const out = { id, ...result, checked_at: nowIso() };
      d.activity.record(actor, {
        action: 'backup.verify',
        targetType: 'backup',
        target: id,
        changes: { ok: out.ok, error: out.error },
      });
      return out;
    },

    prune,

    /** Prometheus lines: when the last backup succeeded, and how many failed. */
    prometheus(): string {
      const at = d.repo.lastSuccessAt();
      return [
        '# HELP slipway_backup_last_success_timestamp_seconds When the last complete backup finished (0: never).',
        '# TYPE slipway_backup_last_success_timestamp_seconds gauge',
        `slipway_backup_last_success_timestamp_seconds ${at ? Math.floor(Date.parse(at) / 1000) : 0}`,
        '# HELP slipway_backup_failures_total Backups that failed.',
        '# TYPE slipway_backup_failures_total counter',
        `slipway_backup_failures_total ${d.repo.failureCount()}`,
        '',
      ].join('\n');
    },

    /** Marks backups a stopped agent left running as failed; call at start. */
    recover: () => d.repo.failInterrupted(nowIso()),
  };
}

/** The backup service. */
export type BackupService = ReturnType<typeof backupService>;

/**
 * Checks a backup end to end without touching anything: every part against the manifest, then the
 * state restored into a temporary directory under `tmpRoot` (removed again) must open, pass
 * SQLite's integrity check and have a schema this Slipway knows.
 */
export async function verifyBackup(
  source: import('node:stream').Readable,
  key: KeySource,
  tmpRoot: string,
): Promise<{ ok: boolean; error: string | null; parts: number }> {
  const staging = join(tmpRoot, `verify-${crypto.randomUUID()}`);
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    const manifest = await unpackBackup(source, key, staging, (part) => part === 'state/slipway.db');
    checkState(join(staging, 'slipway.db'));
    return { ok: true, error: null, parts: manifest.parts.length };
  } catch (err) {
    if (err instanceof BackupDamagedError) return { ok: false, error: err.message, parts: 0 };
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Opens a restored slipway.db and checks it: integrity, and a schema no newer than this Slipway's. */
export function checkState(file: string): void {
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupDamagedError(`The state in the backup does not open: ${(err as Error).message}`);
  }
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new BackupDamagedError(`The state in the backup fails its integrity check: ${check}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length)
      throw new BackupDamagedError(
        `The state in the backup has schema version ${version}, newer than this Slipway (${MIGRATIONS.length}); upgrade Slipway`,
      );
  } finally {
    db.close();
  }
}
