import type { Database } from 'better-sqlite3';
import m001 from './migrations/001_init.sql' with { type: 'text' };
import m002 from './migrations/002_deployments.sql' with { type: 'text' };
import m003 from './migrations/003_runtime.sql' with { type: 'text' };
import m004 from './migrations/004_meta.sql' with { type: 'text' };
import m005 from './migrations/005_env.sql' with { type: 'text' };
import m006 from './migrations/006_databases.sql' with { type: 'text' };
import m007 from './migrations/007_instances.sql' with { type: 'text' };
import m008 from './migrations/008_quotas.sql' with { type: 'text' };
import m009 from './migrations/009_token_projects.sql' with { type: 'text' };
import m010 from './migrations/010_edge_store.sql' with { type: 'text' };
import m011 from './migrations/011_domains.sql' with { type: 'text' };
import m012 from './migrations/012_volumes.sql' with { type: 'text' };
import m013 from './migrations/013_platform_hosts.sql' with { type: 'text' };
import m014 from './migrations/014_backups.sql' with { type: 'text' };
import m015 from './migrations/015_order_projects.sql' with { type: 'text' };
import m016 from './migrations/016_domain_ownership.sql' with { type: 'text' };
import m017 from './migrations/017_domain_proven.sql' with { type: 'text' };
import m018 from './migrations/018_sessions.sql' with { type: 'text' };
import m019 from './migrations/019_images.sql' with { type: 'text' };
import m020 from './migrations/020_webhooks.sql' with { type: 'text' };

/**
 * Forward-only migrations, in order; the version of the database is PRAGMA user_version,
 * the number of migrations applied. Imported as text so the compiled binary carries them.
 */
export const MIGRATIONS: readonly string[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
  m016,
  m017,
  m018,
  m019,
  m020,
];

/**
 * Applies every migration past the database's user_version, all in one transaction: a start either
 * brings the schema fully up to date or leaves it as it was, and a fresh database costs one commit
 * (one fsync) instead of one per migration.
 */
export function migrate(db: Database, upTo: number = MIGRATIONS.length): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `Cannot open the database: its schema version ${current} is newer than this Slipway (${MIGRATIONS.length}); upgrade Slipway`,
    );
  }
  if (current >= upTo) return current;
  db.transaction(() => {
    for (let v = current; v < upTo; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${upTo}`);
  })();
  return Math.max(current, upTo);
}
