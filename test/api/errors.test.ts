import { afterAll, describe, expect, test } from 'bun:test';
import { Elysia } from 'elysia';
import { errorPlugin } from '../../src/api/errors.ts';
import { createLogger } from '../../src/log.ts';
import { errorOf, makeTestApp } from '../helpers/app.ts';

const t = makeTestApp();
afterAll(() => t.close());

describe('the error envelope', () => {
  test('an unknown route answers 404 not_found in the envelope', async () => {
    const res = await t.req('GET', '/v1/nothing-here');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toStartWith('application/json');
    const err = await errorOf(res);
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('No route for GET /v1/nothing-here');
  });

  test('a known path with the wrong method answers 405 with an Allow header', async () => {
    const res = await t.req('PUT', '/v1/projects');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
    expect((await errorOf(res)).code).toBe('method_not_allowed');
  });

  test('malformed JSON answers 400 bad_request', async () => {
    const res = await t.req('POST', '/v1/projects', { body: '{"name": ' });
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err).toMatchObject({ code: 'bad_request', message: 'Cannot parse the request body: expected valid JSON' });
  });

  test('a body that is not JSON answers 415 unsupported_media_type', async () => {
    const res = await t.req('POST', '/v1/projects', {
      body: 'name=web',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(415);
    expect((await errorOf(res)).code).toBe('unsupported_media_type');
  });

  test('validation errors answer 422 with one issue per bad field', async () => {
    const res = await t.req('POST', '/v1/projects', { body: { name: 'Not A Label', instances: 21, cpus: 'two' } });
    expect(res.status).toBe(422);
    const err = await errorOf(res);
    expect(err.code).toBe('validation_error');
    expect(err.message).toBe('Invalid request body');
    expect(err.issues).toEqual([
      { path: '/name', message: 'Expected a string matching ^[a-z][a-z0-9-]{0,62}$' },
      { path: '/instances', message: 'Expected an integer from 1 to 20' },
      { path: '/cpus', message: 'Expected a number from 0.05 to 64' },
    ]);
  });

  test('an unknown field is refused rather than silently dropped', async () => {
    const res = await t.req('POST', '/v1/projects', { body: { name: 'typo', instance: 3 } });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).issues).toEqual([{ path: '/instance', message: 'Unknown field' }]);
  });

  test('a missing required field is reported as required', async () => {
    const res = await t.req('POST', '/v1/tokens', { body: { scope: 'read' } });
    expect(res.status).toBe(422);
    expect((await errorOf(res)).issues).toContainEqual({ path: '/name', message: 'Required' });
  });

  test('bad query parameters answer 422 naming the parameter', async () => {
    const res = await t.req('GET', '/v1/projects?limit=500');
    expect(res.status).toBe(422);
    const err = await errorOf(res);
    expect(err.message).toBe('Invalid query parameters');
    expect(err.issues).toEqual([{ path: '/limit', message: 'Expected an integer from 1 to 100' }]);
  });

  test('an unexpected exception becomes an opaque 500 that is logged with its request id', async () => {
    const lines: string[] = [];
    const app = new Elysia()
      .use(
        errorPlugin(
          createLogger('error', (l) => void lines.push(l)),
          () => [],
        ),
      )
      .get('/boom', () => {
        throw new Error('secret internals at /srv/db.ts:42');
      });
    const res = await app.handle(new Request('http://localhost/boom', { headers: { 'x-request-id': 'req_test123' } }));
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({
      error: {
        code: 'internal_error',
        message: 'Internal error: quote request id req_test123 when reporting it',
        request_id: 'req_test123',
      },
    });
    expect(JSON.stringify(body)).not.toContain('secret internals');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', request_id: 'req_test123', path: '/boom' });
    expect(lines[0]).toContain('secret internals');
  });
});

describe('request ids', () => {
  test('every response carries a generated X-Request-Id', async () => {
    const a = await t.req('GET', '/v1/health');
    const b = await t.req('GET', '/v1/nothing');
    expect(a.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(b.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
  });

  test('a sane incoming X-Request-Id is echoed and an unsafe one replaced', async () => {
    const sane = await t.req('GET', '/v1/me', { headers: { 'x-request-id': 'trace-42.a:b' } });
    expect(sane.headers.get('x-request-id')).toBe('trace-42.a:b');
    const unsafe = await t.req('GET', '/v1/me', { headers: { 'x-request-id': 'x'.repeat(200) } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });
});
