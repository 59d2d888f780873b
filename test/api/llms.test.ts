import { afterAll, describe, expect, test } from 'bun:test';
import { makeTestApp } from '../helpers/app.ts';

const t = makeTestApp();
afterAll(() => t.close());

describe('GET /llms.txt', () => {
  test('is public Markdown that links the OpenAPI document and the reference', async () => {
    const res = await t.app.handle(new Request('http://localhost/llms.txt'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    expect(text).toStartWith('# Slipway\n\n> ');
    expect(text).toContain('- [OpenAPI 3.1 specification](/v1/openapi.json)');
    expect(text).toContain('- [API reference](/docs)');
  });

  test('names slipway mcp and slipway exec, and is itself in the OpenAPI document', async () => {
    const text = await (await t.app.handle(new Request('http://localhost/llms.txt'))).text();
    expect(text).toContain('`slipway mcp`');
    expect(text).toContain('`slipway exec -p web -- sh`');
    const spec = (await (await t.app.handle(new Request('http://localhost/v1/openapi.json'))).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(spec.paths)).toContain('/llms.txt');
  });
});
