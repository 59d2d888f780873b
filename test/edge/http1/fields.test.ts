/**
 * The header and request-line parsers against plain references written from the grammar (RFC 9112
 * §3, §5 as llhttp's strict mode reads it), on generated heads mixing common names in every case,
 * separators, bare CR and LF, control and non-ASCII bytes: the fast parsers must accept exactly
 * what the references accept and read it the same way, so speed never loosens framing.
 */
import { describe, expect, test } from 'bun:test';
import { parseFields } from './reference-fields.ts';
import { headEnd, parseRequestHead } from '../../../src/edge/http1/request-head.ts';

/** A deterministic generator (mulberry32), so a failure names a case that can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one of `choices`. */
function pick<T>(next: () => number, choices: readonly T[]): T {
  return choices[Math.floor(next() * choices.length)]!;
}

/**
 * `count` strings made of `parts.length` slots, slot i taking one of parts[i]; with a chance of 1
 * in 8, a slot takes one of `noise` instead.
 */
function generated(parts: readonly (readonly string[])[], noise: readonly string[], count: number, seed: number) {
  const next = random(seed);
  const out: string[] = [];
  for (let n = 0; n < count; n++)
    out.push(parts.map((choices) => pick(next, next() < 0.125 ? noise : choices)).join(''));
  return out;
}

/** The header lines of `head` from `from`, read line by line with one regular expression. */
function referenceFields(head: string, from: number) {
  const raw: string[] = [];
  const names: string[] = [];
  const starts: number[] = [];
  let at = from;
  while (at < head.length) {
    starts.push(at);
    let eol = head.indexOf('\r\n', at);
    if (eol === -1) eol = head.length;
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):([\t\x20-\x7e\x80-\xff]*)$/.exec(head.slice(at, eol));
    if (!m) return null;
    raw.push(m[1]!, m[2]!.replace(/^[ \t]+|[ \t]+$/g, ''));
    names.push(m[1]!.toLowerCase());
    at = eol + 2;
  }
  starts.push(head.length + 2);
  return { raw, names, starts };
}

const NAMES = ['Host', 'host', 'HOST', 'Content-Length', 'content-length', 'CONTENT-length', 'Transfer-Encoding'];
const MORE_NAMES = ['Connection', 'ETag', 'Etag', 'X-Powered-By', 'X-Custom', 'a', "!#$%&'*+-.^_`|~"];
const SEPARATORS = [':', ': ', ':\t', ':  '];
const VALUES = ['', 'value', '5', 'chunked', 'a, b', ' x ', '"q"', '\xe9\xff', '(c)', '@'];
const NOISE = ['', ' ', '\t', '\r', '\n', '\r\n', '\x00', '\x01', '\x7f', ':', '"', '@', 'Host'];

/** Heads of one to three field lines. */
function fieldHeads(count: number, seed: number): string[] {
  const line = [[...NAMES, ...MORE_NAMES], SEPARATORS, VALUES, VALUES];
  const next = random(seed);
  const lines = generated(line, NOISE, count * 3, seed);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const k = 1 + Math.floor(next() * 3);
    out.push(lines.slice(3 * n, 3 * n + k).join(pick(next, ['\r\n', '\r\n', '\r\n', '\n', '\r', '\r\n '])));
  }
  return out;
}

describe('header fields', () => {
  test('are accepted exactly when the reference grammar accepts them, and read the same', () => {
    let accepted = 0;
    for (const head of fieldHeads(30000, 16)) {
      const names: string[] = [];
      const starts: number[] = [];
      const raw = parseFields(head, 0, names, starts);
      const expected = referenceFields(head, 0);
      if (expected === null) {
        expect({ head, raw }).toEqual({ head, raw: null });
        continue;
      }
      accepted++;
      expect({ head, raw, names, starts }).toEqual({ head, ...expected });
    }
    // The corpus exercises both sides: many heads pass, many are refused.
    expect(accepted).toBeGreaterThan(3000);
    expect(accepted).toBeLessThan(27000);
  });

  test('keep a common name as sent, whatever its case', () => {
    const names: string[] = [];
    const raw = parseFields('CONTENT-LENGTH: 1\r\nContent-Length: 2\r\ncontent-length: 3\r\nETag: x', 0, names);
    expect(raw).toEqual(['CONTENT-LENGTH', '1', 'Content-Length', '2', 'content-length', '3', 'ETag', 'x']);
    expect(names).toEqual(['content-length', 'content-length', 'content-length', 'etag']);
  });
});

/** What the reference makes of a request line: method, target and minor version, or null. */
function referenceLine(line: string) {
  const m = /^([A-Z]{1,20}) ([\x21-\x7e]+) HTTP\/1\.([01])$/.exec(line);
  return m ? { method: m[1]!, url: m[2]!, minor: Number(m[3]) as 0 | 1 } : null;
}

const METHODS = ['GET', 'POST', 'HEAD', 'PATCH', 'DELETE', 'PURGE', 'X', 'get', 'GEt', 'A'.repeat(20), 'A'.repeat(21)];
const TARGETS = ['/', '/a', '/a/../b', '//x', '%2e%2e', '/?q=1', '*', 'http://a/', '/\xe9', '/a b'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.'];
const LINE_NOISE = ['', ' ', '  ', '\t', '\x7f', '\x00', '#'];

describe('request lines', () => {
  test('are accepted exactly when the reference grammar accepts them, and read the same', () => {
    let accepted = 0;
    for (const line of generated([METHODS, [' '], TARGETS, [' '], VERSIONS], LINE_NOISE, 20000, 9112)) {
      const buf = Buffer.from(`${line}\r\nHost: a\r\n\r\n`, 'latin1');
      const end = headEnd(buf);
      const head = typeof end === 'number' && end !== -1 ? parseRequestHead(buf, end) : { refused: 400 };
      const expected = referenceLine(line);
      if (expected === null) {
        expect({ line, refused: 'refused' in head }).toEqual({ line, refused: true });
        continue;
      }
      accepted++;
      if ('refused' in head) throw new Error(`Refused a valid request line: ${JSON.stringify(line)}`);
      expect({ line, method: head.method, url: head.url, minor: head.minor }).toEqual({ line, ...expected });
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(accepted).toBeLessThan(18000);
  });
});
