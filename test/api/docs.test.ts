import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { makeTestApp } from '../helpers/app.ts';

const t = makeTestApp();
let html: string;
let contentType: string | null;

beforeAll(async () => {
  const res = await t.req('GET', '/docs', { token: null });
  expect(res.status).toBe(200);
  contentType = res.headers.get('content-type');
  html = await res.text();
});

afterAll(() => t.close());

/** The value of `attr` on every `<tag …>` of the page. */
function attributes(tag: string, attr: string): string[] {
  const tags = html.match(new RegExp(`<${tag}\\b[^>]*>`, 'gi')) ?? [];
  return tags.flatMap((el) => {
    const m = new RegExp(`\\s${attr}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(el);
    return m ? [m[1] ?? m[2] ?? m[3] ?? ''] : [];
  });
}

/** The Scalar configuration the page passes to the script. */
function scalarConfiguration(): Record<string, unknown> {
  const m = /<script\b[^>]*\bid="api-reference"[^>]*\bdata-configuration='([^']*)'/i.exec(html);
  if (!m?.[1]) throw new Error('no data-configuration on #api-reference');
  return JSON.parse(m[1]) as Record<string, unknown>;
}

describe('GET /docs', () => {
  test('answers 200 with HTML without a token', () => {
    expect(contentType).toStartWith('text/html');
    expect(html).toStartWith('<!doctype html>');
  });

  test('loads scripts and stylesheets only from its own origin', () => {
    const urls = [...attributes('script', 'src'), ...attributes('link', 'href')];
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) {
      expect(url).toMatch(/^\/(?!\/)/);
      expect(url).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
    }
    expect(attributes('script', 'src')).toEqual(['/docs/assets/scalar.js']);
  });

  test('names no other host, so no web fonts or CDN files', () => {
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/@import|@font-face|fonts\.(?:googleapis|gstatic|scalar)\.com|cdn\.jsdelivr|unpkg\.com/i);
  });

  test('points the reference at /v1/openapi.json and turns off its network extras', () => {
    expect(scalarConfiguration()).toMatchObject({
      url: '/v1/openapi.json',
      cdn: '/docs/assets/scalar.js',
      // Scalar otherwise loads its fonts from fonts.scalar.com, reports usage, and offers
      // buttons that send the spec to its cloud.
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      mcp: { disabled: true },
      showDeveloperTools: 'never',
    });
  });

  test('carries the API description as a well-formed meta tag', () => {
    const m = /<meta\s+name="description"\s+content="([^"]*)"\s*\/>/.exec(html);
    expect(m?.[1]).toStartWith("Slipway's REST API.");
  });
});

describe('GET /docs/assets/scalar.js', () => {
  test('serves the Scalar bundle from the binary', async () => {
    const res = await t.req('GET', '/docs/assets/scalar.js', { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^(?:text|application)\/javascript\b/);
    const body = await res.arrayBuffer();
    expect(body.byteLength).toBeGreaterThan(100_000);
  });
});
