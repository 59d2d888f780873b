/**
 * Deeply frozen values: a view shared by every request that reads it (a cached project view) is
 * frozen all the way down, so no request can change what the next one sees, and whoever keeps
 * something derived from it (its JSON) may keep it as long as it holds the value.
 */

/** Freezes `value` and everything reachable from it; returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/** True when `value` and everything reachable from it are frozen. */
export function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}
