/**
 * The byte reader of header lines (head-lines.ts), which both heads are parsed with, against the
 * string parser of fields.ts (itself checked against a reference grammar in fields.test.ts): a
 * generated corpus of heads with noise must be accepted and refused alike, and read the same
 * names, values, line starts, framing and Connection tokens.
 */
import { describe, expect, test } from 'bun:test';
import { framingOf, parseFields, tokensOf } from './reference-fields.ts';
import * as lines from '../../../src/edge/http1/head-lines.ts';

const { LineKind } = lines;

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

const NAMES = [
  'Host',
  'Content-Length',
  'content-length',
  'Transfer-Encoding',
  'Connection',
  'CONNECTION',
  'X-A',
  'Date',
];
const SEPARATORS = [':', ': ', ':\t', ':  '];
const VALUES = [
  '',
  '5',
  '05',
  'chunked',
  'gzip, chunked',
  'Close',
  'keep-alive',
  ' x ',
  'a, b',
  '\xe9',
  '1'.repeat(16),
];
const NOISE = ['', ' ', '\t', '\r', '\n', '\r\n', '\x00', '\x7f', ':', 'Host'];
const BREAKS = ['\r\n', '\r\n', '\r\n', '\n', '\r', '\r\n '];

/** `count` heads of one to four field lines, each slot with a 1 in 8 chance of noise. */
function heads(count: number, seed: number): string[] {
  const next = random(seed);
  const pick = <T>(choices: readonly T[]) => choices[Math.floor(next() * choices.length)]!;
  const slot = (choices: readonly string[]) => pick(next() < 0.125 ? NOISE : choices);
  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const k = 1 + Math.floor(next() * 4);
    const fields = Array.from({ length: k }, () => slot(NAMES) + slot(SEPARATORS) + slot(VALUES) + slot(VALUES));
    out.push(fields.join(pick(BREAKS)));
  }
  return out;
}

const KINDS = lines.kindTable([
  ['connection', LineKind.Connection],
  ['transfer-encoding', LineKind.TransferEncoding],
  ['content-length', LineKind.ContentLength],
]);

/** What the byte reader makes of the fields `text` (its head cut at its first CRLF CRLF, as the engine does). */
function byBytes(text: string) {
  const buf = Buffer.from(`${text}\r\n\r\n`, 'latin1');
  const to = buf.indexOf('\r\n\r\n') + 2;
  // No field lines (the text starts with the blank line): the engine starts the reader there.
  const from = to === 2 ? 2 : 0;
  const scanned = lines.scanLines(buf, from, to, KINDS);
  if (scanned === null) return { head: buf.toString('latin1', 0, to - 2), raw: null };
  if (from === to)
    return {
      head: '',
      raw: scanned.count === 0 ? [] : null,
      names: [],
      starts: [2],
      framing: { kind: 'none' },
      connection: [],
    };
  const { raw, names } = lines.fieldStrings(buf, scanned);
  const framing = lines.framingOf(buf, scanned) ?? { kind: 'invalid' };
  const connection = lines.tokensOfKind(buf, scanned, LineKind.Connection);
  return { head: buf.toString('latin1', 0, to - 2), raw, names, starts: scanned.starts, framing, connection };
}

/** What fields.ts makes of the same head. */
function byString(head: string) {
  const names: string[] = [];
  const starts: number[] = [];
  const raw = parseFields(head, 0, names, starts);
  if (raw === null) return { head, raw: null };
  const framing = framingOf(raw, names);
  return { head, raw, names, starts, framing, connection: tokensOf(raw, 'connection', names) };
}

describe('header lines read on their bytes', () => {
  test('are accepted and read exactly as the string parser reads them', () => {
    let accepted = 0;
    for (const text of heads(30000, 7230)) {
      const got = byBytes(text);
      const expected = byString(got.head);
      if (expected.raw !== null) accepted++;
      expect(got).toEqual(expected);
    }
    // The corpus exercises both sides: many heads pass, many are refused.
    expect(accepted).toBeGreaterThan(3000);
    expect(accepted).toBeLessThan(27000);
  });

  test('give a name listed twice the kind it is first listed with, whatever its case', () => {
    const table = lines.kindTable([
      ['te', LineKind.Date],
      ['te', LineKind.Dropped],
    ]);
    const buf = Buffer.from('TE: x\r\nte: y\r\nTea: z\r\n\r\n', 'latin1');
    expect(lines.scanLines(buf, 0, buf.length - 2, table)?.kind).toEqual([
      LineKind.Date,
      LineKind.Date,
      LineKind.Other,
    ]);
  });
});
