import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { IMAGE_ENV, SETTINGS } from '../src/config.ts';

const readme = readFileSync(resolve(import.meta.dir, '../README.md'), 'utf8');
const ci = readFileSync(resolve(import.meta.dir, '../.ci/run'), 'utf8');

describe('the README', () => {
  test('starts with the two commands, and .ci/run runs the test one', () => {
    const block = /```sh\n(.*?)\n```/s.exec(readme)![1]!.split('\n');
    expect(block[0]).toStartWith('npm ci && npm start');
    expect(block[1]).toStartWith('npm ci && npm test');
    expect(ci.trim().split('\n').at(-1)).toBe('npm ci && npm test');
  });

  test('documents every setting with its env var, flag and default', () => {
    for (const s of SETTINGS) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${s.env}\` |`));
      expect({ env: s.env, row: row !== undefined }).toEqual({ env: s.env, row: true });
      if (s.flag) expect(row).toContain(`\`--${s.flag}\``);
      if (s.default) expect(row).toContain(`\`${s.default}\``);
    }
    for (const env of Object.values(IMAGE_ENV)) expect(readme).toContain(`| \`${env}\` |`);
  });
});
