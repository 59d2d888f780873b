/** How an env would change if another replaced it, by key name only: values never leave here. */
export interface EnvChange {
  /** Keys in both whose values differ (a secret rotated since would change back). */
  changed: string[];
  /** Keys only the replacement has (removed since; they come back). */
  restored: string[];
  /** Keys only the current env has (set since; they go away). */
  removed: string[];
}

/** What replacing `current` with `next` changes, each list sorted. */
export function diffEnv(current: Record<string, string>, next: Record<string, string>): EnvChange {
  const has = (env: Record<string, string>, key: string) => Object.hasOwn(env, key);
  return {
    changed: Object.keys(next)
      .filter((k) => has(current, k) && current[k] !== next[k])
      .sort(),
    restored: Object.keys(next)
      .filter((k) => !has(current, k))
      .sort(),
    removed: Object.keys(current)
      .filter((k) => !has(next, k))
      .sort(),
  };
}

/** True when replacing the env changes nothing. */
export function envUnchanged(change: EnvChange): boolean {
  return change.changed.length + change.restored.length + change.removed.length === 0;
}

/**
 * What a rollback to deployment #`number` does to the project's env, as sentences naming keys and
 * never values: a rotated secret must not come back unnoticed.
 */
export function rollbackEnvWarnings(number: number, change: EnvChange): string[] {
  const list = (keys: string[]) => keys.join(', ');
  const warnings: string[] = [];
  if (change.changed.length > 0)
    warnings.push(
      `Rolling back to #${number} sets ${list(change.changed)} back to the ${change.changed.length === 1 ? 'value it' : 'values they'} had then; if a secret was rotated since, set it again with \`slipway env set\``,
    );
  if (change.restored.length > 0)
    warnings.push(`Rolling back to #${number} brings back ${list(change.restored)}, unset since`);
  if (change.removed.length > 0) warnings.push(`Rolling back to #${number} removes ${list(change.removed)}, set since`);
  return warnings;
}
