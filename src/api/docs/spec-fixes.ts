import { unwrapSchema } from '@elysiajs/openapi/openapi';

/** What fixSpec needs of a route: Elysia's `InternalRoute`. */
export interface DocumentedRoute {
  method: string;
  path: string;
  hooks?: { body?: unknown; detail?: Record<string, unknown> };
}

/** A route's `detail` key for a request body the route reads itself (uploads), moved into `requestBody`. */
export const RAW_BODY_DOC = 'x-slipway-request-body';

type Json = Record<string, unknown>;

/**
 * Corrects three things @elysiajs/openapi 1.4 gets wrong in the document it generates, so the
 * spec says what the API does. Returns a corrected copy; the input is the plugin's cache, whose
 * schema objects may be the ones Elysia validates with, so it is never mutated.
 * - Request bodies: a global `onParse` hook makes the plugin emit `content: {}`; JSON bodies get their
 *   schema back, and upload routes the media types they document under RAW_BODY_DOC.
 * - `t.Void()` responses (204) come out as `content: {"type": "void"}`; a 204 has no content.
 * - `t.Integer()`/`t.Numeric()` appear as Elysia's coercion union with a string branch whose
 *   `default: 0` is not a string; the API reads and writes plain numbers.
 */
export function fixSpec(spec: Json, routes: readonly DocumentedRoute[]): Json {
  const doc = JSON.parse(JSON.stringify(spec)) as Json;
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Json>>;
  for (const route of routes) {
    const operation = paths[route.path.replace(/:([^/]+)/g, '{$1}')]?.[route.method.toLowerCase()];
    if (!operation) continue;
    const raw = route.hooks?.detail?.[RAW_BODY_DOC];
    if (raw) operation.requestBody = raw;
    delete operation[RAW_BODY_DOC];
    fillJsonBody(operation, route.hooks?.body);
    dropVoidContent(operation);
  }
  return collapseCoercionUnions(doc) as Json;
}

function fillJsonBody(operation: Json, body: unknown): void {
  const requestBody = operation.requestBody as { content?: Json } | undefined;
  if (!requestBody || body === undefined || Object.keys(requestBody.content ?? {}).length > 0) return;
  const schema = unwrapSchema(body as never, undefined, 'input', '3.1.2');
  if (schema) requestBody.content = { 'application/json': { schema: JSON.parse(JSON.stringify(schema)) } };
}

function dropVoidContent(operation: Json): void {
  for (const response of Object.values((operation.responses ?? {}) as Record<string, Json>)) {
    const content = response.content as Json | undefined;
    // A media-type map never has a string `type`; the plugin's void marker does.
    if (content && typeof content.type === 'string') delete response.content;
  }
}

const NUMERIC_TYPES = new Set(['integer', 'number']);

function collapseCoercionUnions(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(collapseCoercionUnions);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) out[key] = collapseCoercionUnions(value);
  const branches = out.anyOf as Json[] | undefined;
  if (!Array.isArray(branches) || branches.length !== 2) return out;
  const text = branches.find((b) => b.type === 'string' && (b.format === 'integer' || b.format === 'numeric'));
  const number = branches.find((b) => NUMERIC_TYPES.has(b.type as string));
  if (!text || !number) return out;
  const { anyOf: _, ...rest } = out;
  return { ...rest, ...number };
}
