/**
 * The Dockerfile check and the engine must read a Dockerfile alike, or a spelling the check reads
 * one way could mean another thing to the engine. Each spelling below is written twice: once
 * naming something harmless, built on the real engine to see what the engine makes of it, and
 * once naming Slipway's (`slipway/…` images, `slipway.…` labels), which the check must refuse.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { checkDockerfile } from '../../src/build/dockerfile-check.ts';
import { DockerfileRefused } from '../../src/deployments/failures.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';
import { buildHarness } from './harness.ts';

const docker = dockerClient();

/** A Dockerfile whose FROM names `<ns>/static:latest` in some spelling. */
const fromSpellings: [string, (ns: string) => string][] = [
  ['plain', (ns) => `FROM ${ns}/static:latest\n`],
  ['lower-case keyword', (ns) => `from ${ns}/static:latest\n`],
  ['double quotes around part', (ns) => `FROM "${ns}/static":latest\n`],
  ['single quotes around part', (ns) => `FROM '${ns}'/static:latest\n`],
  ['an escape inside', (ns) => `FROM ${ns.slice(0, 4)}\\${ns.slice(4)}/static:latest\n`],
  ['a continued line inside the word', (ns) => `FROM ${ns}/sta\\\ntic:latest\n`],
  ['the backtick escape and a continued line', (ns) => `# escape=\`\nFROM ${ns}/sta\`\ntic:latest\n`],
  ['a meta ARG', (ns) => `ARG NS=${ns}\nFROM $NS/static:latest\n`],
  ['meta ARGs built from each other', (ns) => `ARG NS=${ns}\nARG IMAGE=\${NS}/static:latest\nFROM \${IMAGE}\n`],
  ['the default of an ARG without one', (ns) => `ARG X\nFROM \${X:-${ns}/static:latest}\n`],
  ['the alternative of a set ARG', (ns) => `ARG X=1\nFROM \${X:+${ns}/static:latest}\n`],
  ['the registry spelled out', (ns) => `FROM docker.io/${ns}/static:latest\n`],
  ['a byte order mark and CRLF', (ns) => `\uFEFFFROM ${ns}/static:latest\r\n`],
  ['a comment line and a blank line first', (ns) => `# a comment\n\nFROM ${ns}/static:latest\n`],
];

/** LABEL instructions, each setting `<prefix>k<i>` in some spelling. */
const labelSpellings: [string, (p: string) => string][] = [
  ['plain', (p) => `LABEL ${p}k1=v`],
  ['double-quoted key', (p) => `LABEL "${p}k2"=v`],
  ['single-quoted key', (p) => `LABEL '${p}k3'=v`],
  ['an escape inside the key', (p) => `LABEL ${p.slice(0, 3)}\\${p.slice(3)}k4=v`],
  ['the old key-space-value form', (p) => `LABEL ${p}k5 v`],
  ['a continued line', (p) => `LABEL a=1 \\\n  ${p}k6=v`],
  ['a comment inside a continued instruction', (p) => `LABEL a=1 \\\n# a comment\n  ${p}k7=v`],
  ['quotes around part of the key', (p) => `LABEL "${p.slice(0, 2)}"${p.slice(2)}k8=v`],
  ['lower-case keyword', (p) => `label ${p}k9=v`],
  ['after a quoted value with spaces', (p) => `LABEL title="a b c" ${p}k10=v`],
  ['a key split by a continued line', (p) => `LABEL ${p}k\\\n11=v`],
];

describe.skipIf(!(await requireDocker()))('the Dockerfile check reads Dockerfiles as the engine does', () => {
  const harness = buildHarness(docker);
  afterAll(() => harness.cleanup());

  test('FROM: every spelling that the engine resolves to an image of a namespace is refused for slipway/', async () => {
    const fixture = (await docker.getImage('slipway-fixture/static:latest').inspect()).Id;
    for (const [what, spell] of fromSpellings) {
      const run = await harness.unchecked({ Dockerfile: spell('slipway-fixture') });
      expect({ what, error: run.error?.message, image: run.result?.imageId }).toEqual({
        what,
        error: undefined,
        image: fixture,
      });
      const refusal = (() => {
        try {
          checkDockerfile(spell('slipway'), 'Dockerfile');
        } catch (err) {
          return err;
        }
      })();
      expect({ what, refused: refusal instanceof DockerfileRefused }).toEqual({ what, refused: true });
      expect((refusal as DockerfileRefused).reason).toEndWith(
        'names a Slipway release image; builds may start only from public images',
      );
    }
  }, 120_000);

  test('LABEL: every spelling that the engine reads as a key with a prefix is refused for slipway.', async () => {
    const lines = labelSpellings.map(([, spell]) => spell('probe.')).join('\n');
    const backtick = `# escape=\`\nFROM slipway-fixture/static:latest\nLABEL slipway.test=${harness.labels['slipway.test']}\nLABEL a=1 \`\n  probe.k12=v\n`;
    const one = await harness.unchecked({
      Dockerfile: `FROM slipway-fixture/static:latest\nLABEL slipway.test=${harness.labels['slipway.test']}\n${lines}\n`,
    });
    const two = await harness.unchecked({ Dockerfile: backtick });
    expect([one.error, two.error]).toEqual([undefined, undefined]);
    const keys = [
      ...Object.keys((await docker.getImage(one.result!.imageId).inspect()).Config.Labels ?? {}),
      ...Object.keys((await docker.getImage(two.result!.imageId).inspect()).Config.Labels ?? {}),
    ].filter((k) => k.startsWith('probe.'));
    expect(keys.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `probe.k${i + 1}`).sort());

    const spellings = [
      ...labelSpellings,
      ['the backtick escape', (p: string) => `# escape=\`\nFROM x\nLABEL a=1 \`\n  ${p}k12=v`] as const,
    ];
    for (const [what, spell] of spellings) {
      const text = spell('slipway.');
      const dockerfile = text.startsWith('#') ? text : `FROM x\n${text}\n`;
      let reason = '';
      try {
        checkDockerfile(dockerfile, 'Dockerfile');
      } catch (err) {
        reason = (err as DockerfileRefused).reason ?? String(err);
      }
      expect({ what, reason }).toEqual({ what, reason: expect.stringContaining('sets a Slipway label') });
    }
  }, 60_000);
});
