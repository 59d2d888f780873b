import type { Db } from './open.ts';
import { newId } from '../ids.ts';

/** Reads a value of the meta table. */
export function getMeta(db: Db, key: string): string | null {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
}

/** Writes a value of the meta table. */
export function setMeta(db: Db, key: string, value: string): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(
    key,
    value,
  );
}

/** Writes `value` under `key` unless one is there already; returns the value stored (the first one written wins). */
export function setMetaOnce(db: Db, key: string, value: string): string {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, value);
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string }).value;
}

/**
 * This installation's id, made on first use. Every Docker object Slipway creates carries it as
 * `slipway.agent`, and clean-ups only ever touch objects with its own id, so two agents sharing
 * one engine (a test run beside a dev instance) never remove each other's containers.
 */
export function agentId(db: Db): string {
  db.prepare("INSERT INTO meta (key, value) VALUES ('agent_id', ?) ON CONFLICT (key) DO NOTHING").run(newId('agt'));
  return (db.prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string }).value;
}
