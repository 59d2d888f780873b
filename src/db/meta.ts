import type { Db } from './open.ts';
import { newId } from '../ids.ts';

/**
 * This installation's id, made on first use. Every Docker object Slipway creates carries it as
 * `slipway.agent`, and clean-ups only ever touch objects with its own id, so two agents sharing
 * one engine (a test run beside a dev instance) never remove each other's containers.
 */
export function agentId(db: Db): string {
  db.prepare("INSERT INTO meta (key, value) VALUES ('agent_id', ?) ON CONFLICT (key) DO NOTHING").run(newId('agt'));
  return (db.prepare("SELECT value FROM meta WHERE key = 'agent_id'").get() as { value: string }).value;
}
