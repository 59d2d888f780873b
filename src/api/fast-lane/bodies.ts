/**
 * A route's 200 bodies as JSON, each checked against the route's response schema first, as Elysia
 * checks it. A body that is deeply frozen (a cached view, src/frozen.ts) cannot change, so its JSON
 * is kept for as long as the body itself lives and it is checked and serialised once; any other
 * body is checked and serialised every time.
 */
import { isDeepFrozen } from '../../frozen.ts';

/** Thrown when a handler's answer is off its route's 200 schema; Elysia reports it as a VALIDATION error. */
export class OffSchemaError extends Error {}

/** A compiled schema check. */
export interface Checker {
  Check(value: unknown): boolean;
}

/** Serialises the bodies of the route at `path`, refusing those `schema` refuses. */
export function bodySerializer(path: string, schema: Checker): (body: unknown) => string {
  const known = new WeakMap<object, string>();
  return (body) => {
    // Only deeply frozen bodies are ever kept, so a body found needs no check of its own.
    const key = typeof body === 'object' && body !== null ? body : null;
    const cached = key && known.get(key);
    if (cached) return cached;
    if (!schema.Check(body)) throw new OffSchemaError(`The response of GET ${path} is off its schema`);
    const json = JSON.stringify(body);
    if (key && isDeepFrozen(key)) known.set(key, json);
    return json;
  };
}
