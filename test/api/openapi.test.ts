import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DOC_PLUGIN_ROUTES, DOCS_PATH } from '../../src/api/docs/routes.ts';
import { makeTestApp } from '../helpers/app.ts';

// biome-ignore lint/suspicious/noExplicitAny: the spec is walked as untyped JSON
type Json = Record<string, any>;

const ROOT = resolve(import.meta.dir, '../..');
const SPECTRAL = join(ROOT, 'node_modules/.bin/spectral');
const RULESET = join(import.meta.dir, 'spectral.yaml');

const t = makeTestApp();
const tmp = mkdtempSync(join(tmpdir(), 'slipway-openapi-'));
let spec: Json;

beforeAll(async () => {
  const res = await t.req('GET', '/v1/openapi.json', { token: null });
  expect(res.status).toBe(200);
  spec = (await res.json()) as Json;
});

afterAll(() => {
  t.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Every API route as [method, OpenAPI path], leaving out the spec, the reference and its assets. */
function apiRoutes(): [string, string][] {
  return (
    t.app.routes
      .filter((r) => !DOC_PLUGIN_ROUTES.has(`${r.method} ${r.path}`) && !r.path.startsWith(`${DOCS_PATH}/`))
      // The web console's page and assets are not part of the API.
      .filter((r) => r.path !== '/console' && !r.path.startsWith('/console/'))
      .map((r) => [r.method.toLowerCase(), r.path.replace(/:([^/]+)/g, '{$1}')])
  );
}

function operations(): [string, Json][] {
  return Object.entries(spec.paths as Record<string, Record<string, Json>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Json]),
  );
}

/** Follows a local `$ref` such as `#/components/schemas/Error`. */
function deref(schema: Json): Json {
  if (typeof schema?.$ref !== 'string') return schema;
  const target = schema.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce((node: Json | undefined, key: string) => node?.[key], spec);
  if (!target) throw new Error(`unresolved ${schema.$ref}`);
  return deref(target);
}

function jsonSchemaOf(response: Json): Json | undefined {
  // JSON for objects; the log route answers text/plain (or an event stream).
  const schema = response?.content?.['application/json']?.schema ?? response?.content?.['text/plain']?.schema;
  return schema ? deref(schema) : undefined;
}

describe('GET /v1/openapi.json', () => {
  test('is public and declares OpenAPI 3.1', () => {
    expect(spec.openapi).toStartWith('3.1');
    expect(spec.info.title).toBe('Slipway API');
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  test('documents every API route with its method', () => {
    const routes = apiRoutes();
    expect(routes.length).toBeGreaterThan(5);
    const missing = routes.filter(([method, path]) => !spec.paths[path]?.[method]).map((r) => r.join(' '));
    expect(missing).toEqual([]);
  });

  test('leaves the reference and its assets out', () => {
    expect(Object.keys(spec.paths).filter((p) => p.startsWith(DOCS_PATH) || p === '/v1/openapi.json')).toEqual([]);
  });

  test('gives every operation a summary and a unique operationId', () => {
    const ops = operations();
    for (const [name, op] of ops) {
      expect({ name, summary: typeof op.summary === 'string' && op.summary.length > 0 }).toEqual({
        name,
        summary: true,
      });
      expect({ name, operationId: typeof op.operationId }).toEqual({ name, operationId: 'string' });
    }
    const ids = ops.map(([, op]) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('describes a success response with a JSON schema, or no content for 204 and 101 (a WebSocket)', () => {
    for (const [name, op] of operations()) {
      const success = Object.entries(op.responses as Record<string, Json>).filter(([status]) =>
        /^(2\d\d|101)$/.test(status),
      );
      expect({ name, successes: success.length > 0 }).toEqual({ name, successes: true });
      for (const [status, response] of success) {
        if (status === '204' || status === '101')
          expect({ name, status, content: response.content }).toEqual({ name, status, content: undefined });
        else
          expect({ name, status, type: typeof jsonSchemaOf(response)?.type }).toEqual({ name, status, type: 'string' });
      }
    }
  });

  test('documents JSON request bodies with their schema', () => {
    for (const [name, op] of operations()) {
      // Uploads and restores stream a raw body, documented with its own media types.
      if (
        !op.requestBody ||
        [
          'POST /v1/projects/{name}/deployments',
          'POST /v1/projects/{name}/database/restore',
          'PUT /v1/projects/{name}/volumes/{volume}/archive',
        ].includes(name)
      )
        continue;
      expect({ name, media: Object.keys(op.requestBody.content) }).toEqual({ name, media: ['application/json'] });
      expect({ name, type: deref(op.requestBody.content['application/json'].schema).type }).toEqual({
        name,
        type: 'object',
      });
    }
    expect(spec.paths['/v1/projects'].post.requestBody.content['application/json'].schema.required).toEqual(['name']);
  });

  test('documents the upload body with its archive media types, and the JSON body of a prebuilt image', () => {
    const body = spec.paths['/v1/projects/{name}/deployments'].post.requestBody;
    expect(body.required).toBe(true);
    expect(body.content['application/json'].schema.required).toEqual(['image']);
    expect(Object.keys(body.content).sort()).toEqual([
      'application/gzip',
      'application/json',
      'application/x-tar',
      'application/zip',
      'multipart/form-data',
    ]);
    expect(body.content['multipart/form-data'].schema.required).toEqual(['source']);
  });

  test('describes every error response with the error envelope', () => {
    for (const [name, op] of operations()) {
      const failures = Object.entries(op.responses as Record<string, Json>).filter(([status]) =>
        /^[45]\d\d$/.test(status),
      );
      expect({ name, failures: failures.length > 0 }).toEqual({ name, failures: true });
      for (const [status, response] of failures) {
        const envelope = jsonSchemaOf(response);
        const error = envelope?.properties?.error ? deref(envelope.properties.error) : undefined;
        expect({ name, status, required: envelope?.required }).toEqual({ name, status, required: ['error'] });
        expect({ name, status, required: error?.required }).toEqual({
          name,
          status,
          required: ['code', 'message', 'request_id'],
        });
        for (const field of ['code', 'message', 'request_id']) {
          expect({ name, status, field, type: error?.properties?.[field]?.type }).toEqual({
            name,
            status,
            field,
            type: 'string',
          });
        }
      }
    }
  });

  test('marks GET /v1/health, GET /llms.txt and the console sign-in public and every other operation as needing a bearer token', () => {
    const open = new Set(['GET /v1/health', 'GET /llms.txt', 'POST /v1/sessions']);
    for (const [name, op] of operations()) {
      const expected = open.has(name) ? [] : [{ bearerAuth: [] }];
      expect({ name, security: op.security }).toEqual({ name, security: expected });
    }
  });

  test('has no errors under Spectral’s OpenAPI ruleset', async () => {
    const specFile = join(tmp, 'openapi.json');
    const resultsFile = join(tmp, 'spectral.json');
    await Bun.write(specFile, JSON.stringify(spec, null, 2));
    const proc = Bun.spawn(
      [SPECTRAL, 'lint', specFile, '--ruleset', RULESET, '--format', 'json', '--output', resultsFile],
      {
        cwd: ROOT,
        stdout: 'pipe',
        stderr: 'pipe',
      },
    );
    const [exitCode, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    const file = Bun.file(resultsFile);
    if (!(await file.exists())) throw new Error(`spectral wrote no results (exit ${exitCode}): ${stderr}`);
    const results = (await file.json()) as {
      code: string;
      severity: number;
      message: string;
      path: (string | number)[];
    }[];
    const line = (r: (typeof results)[number]) => `${r.code} at ${r.path.join('.')}: ${r.message}`;
    const errors = results.filter((r) => r.severity === 0).map(line);
    const warnings = results.filter((r) => r.severity === 1);
    console.info(
      `spectral: ${errors.length} errors, ${warnings.length} warnings (${[...new Set(warnings.map((w) => w.code))].join(', ')})`,
    );
    expect(errors).toEqual([]);
    expect(exitCode).toBe(0);
  });
});
