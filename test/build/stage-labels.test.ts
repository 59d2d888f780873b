import { describe, expect, test } from 'bun:test';
import { withStageLabels } from '../../src/build/stage-labels.ts';

const LABEL = 'LABEL slipway.project="web"';

describe('labels on every stage', () => {
  test('go after the FROM of each stage, or of each but the last for a generated Dockerfile', () => {
    const file = 'FROM a AS build\nRUN make\nFROM b AS test\nRUN check\nFROM c\nCOPY --from=build /x /x\n';
    expect(withStageLabels(file, LABEL)).toBe(
      `FROM a AS build\n${LABEL}\nRUN make\nFROM b AS test\n${LABEL}\nRUN check\nFROM c\n${LABEL}\nCOPY --from=build /x /x\n`,
    );
    expect(withStageLabels(file, LABEL, true)).toBe(
      `FROM a AS build\n${LABEL}\nRUN make\nFROM b AS test\n${LABEL}\nRUN check\nFROM c\nCOPY --from=build /x /x\n`,
    );
    expect(withStageLabels('FROM a\nRUN make\n', LABEL, true)).toBe('FROM a\nRUN make\n');
  });

  test('follow a continued FROM’s last line, with the file’s own escape character and line endings', () => {
    expect(withStageLabels('FROM \\\n  a \\\n  AS build\nRUN make\n', LABEL)).toBe(
      `FROM \\\n  a \\\n  AS build\n${LABEL}\nRUN make\n`,
    );
    expect(withStageLabels('# escape=`\nFROM `\n  a AS build\nRUN make\n', LABEL)).toBe(
      `# escape=\`\nFROM \`\n  a AS build\n${LABEL}\nRUN make\n`,
    );
    expect(withStageLabels('FROM a AS build\r\nRUN make\r\n', LABEL)).toBe(`FROM a AS build\r\n${LABEL}\nRUN make\r\n`);
  });

  test('never split a FROM continued over blank lines: the engine joins them, and the LABEL follows the whole', () => {
    expect(withStageLabels('FROM a AS build \\\n\nRUN make\nFROM b\n', LABEL, true)).toBe(
      `FROM a AS build \\\n\nRUN make\n${LABEL}\nFROM b\n`,
    );
  });

  test('skip FROM words that are not instructions: comments and arguments of other instructions', () => {
    const file = '# FROM x\nFROM a AS build\nRUN echo \\\n FROM y\n';
    expect(withStageLabels(file, LABEL)).toBe(`# FROM x\nFROM a AS build\n${LABEL}\nRUN echo \\\n FROM y\n`);
  });
});
