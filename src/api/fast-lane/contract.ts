/**
 * What the fast lane needs to answer a route exactly as Elysia does, read from the Elysia route
 * itself: its access rule, its handler, and validators compiled from its own params and 200
 * schemas. A route with anything else the lane does not reproduce (a query, header, cookie or body
 * schema, a hook of its own, no access rule or an elevated one) is refused when the app is built,
 * so the lane cannot drift from a route that grows one: it has to be taught about it first.
 */
import { getSchemaValidator, type AnyElysia } from 'elysia';
import { Kind } from '@sinclair/typebox';
import type { Principal } from '../../tokens/service.ts';
import { ACCESS_EXTENSION, type AccessRule } from '../access.ts';
import type { Checker } from './bodies.ts';

/**
 * The part of Elysia's context a fast read's handler may use. Not the request: the lane does not
 * store its request state where requestState() would find it (request-state.ts), so a handler
 * that reads the request fails loudly in the differential test instead of seeing another id.
 */
export interface FastContext {
  params: Record<string, string>;
  principal: Principal | null;
}

/** A GET route as the lane answers it. */
export interface RouteContract {
  path: string;
  rule: AccessRule;
  /** The route's handler; its answer may be a promise (health waits for the engine's status). */
  handler: (context: FastContext) => unknown;
  /** Checks the path parameters as decoded from the URL; null for a route without any. */
  params: Checker | null;
  /** Checks the 200 body, as Elysia's response validation does. */
  response: Checker;
}

/** Hooks every API route has (the gate, body parsing, the access macro, the error mapper), and how many. */
const EXPECTED_HOOKS: Record<string, number> = {
  request: 1,
  parse: 1,
  transform: 1,
  beforeHandle: 1,
  afterHandle: 0,
  mapResponse: 0,
  afterResponse: 0,
  trace: 0,
  error: 1,
};
const UNSUPPORTED_SCHEMAS = ['query', 'headers', 'cookie', 'body'] as const;

interface ElysiaRoute {
  method: string;
  path: string;
  handler: unknown;
  hooks: Record<string, unknown>;
}

/** The contract of `GET path` in `app`; throws when the lane cannot answer it exactly as Elysia does. */
export function routeContract(app: AnyElysia, path: string): RouteContract {
  const route = (app.routes as ElysiaRoute[]).find((r) => r.method === 'GET' && r.path === path);
  if (!route) throw new Error(`Fast lane: no route GET ${path}`);
  const fail = (why: string) => new Error(`Fast lane: GET ${path} ${why}; answer it through Elysia or teach the lane`);
  for (const [hook, count] of Object.entries(EXPECTED_HOOKS)) {
    const have = (route.hooks[hook] as unknown[] | undefined)?.length ?? 0;
    if (have !== count) throw fail(`has ${have} ${hook} hook(s), the lane reproduces ${count}`);
  }
  for (const schema of UNSUPPORTED_SCHEMAS) if (route.hooks[schema]) throw fail(`has a ${schema} schema`);
  const rule = (route.hooks.detail as Record<string, unknown> | undefined)?.[ACCESS_EXTENSION] as AccessRule;
  if (!rule || (rule !== 'public' && rule.elevated)) throw fail('has no access rule or an elevated one');
  const schema = okSchema(route.hooks.response);
  if (!schema) throw fail('has no 200 response schema');
  // Elysia's default options, which are those its own response validation compiles a 200 schema with.
  const response = compiledOnUse(() => getSchemaValidator(schema as never, {})!);
  const paramsSchema = route.hooks.params;
  const params = paramsSchema ? compiledOnUse(() => getSchemaValidator(paramsSchema as never, {})!) : null;
  return { path, rule, handler: route.handler as RouteContract['handler'], params, response };
}

/** The 200 schema of a route's `response` hook: the schema itself, or its entry for 200. */
function okSchema(response: unknown): object | undefined {
  if (typeof response !== 'object' || response === null) return undefined;
  if (Kind in response) return response;
  return (response as Record<number, object | undefined>)[200];
}

/**
 * A checker compiled by its first check. Compiling a TypeBox checker generates and evaluates code
 * (a few ms each); the lane's are needed by the first request, not by the app's construction,
 * which is on the path from `serve` to its first answer.
 */
function compiledOnUse(compile: () => Checker): Checker {
  let checker: Checker | undefined;
  return { Check: (value) => (checker ??= compile()).Check(value) };
}
