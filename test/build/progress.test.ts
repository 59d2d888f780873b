import { describe, expect, test } from 'bun:test';
import { stepFailed } from '../../src/build/errors.ts';
import { BuildCanceled, BuildError, BuildTimedOut } from '../../src/deployments/failures.ts';
import {
  BuildProgress,
  firstExposedPort,
  JsonLines,
  MAX_LINE_CHARS,
  type EngineMessage,
} from '../../src/build/progress.ts';

const MiB = 1024 ** 2;

function follow(messages: EngineMessage[]): { progress: BuildProgress; lines: string[] } {
  const lines: string[] = [];
  const progress = new BuildProgress((l) => lines.push(l));
  for (const m of messages) progress.handle(m);
  progress.flush();
  return { progress, lines };
}

describe('JsonLines', () => {
  test('parses messages split anywhere across chunks, multi-byte characters included', () => {
    const bytes = Buffer.from(
      '{"stream":"Step 1/2 : FROM x"}\r\n{"stream":"h\u00e9llo\\n"}\r\n{"aux":{"ID":"sha256:ab"}}\r\n',
    );
    const split = new JsonLines();
    const out: EngineMessage[] = [];
    for (let i = 0; i < bytes.length; i += 7) out.push(...split.push(bytes.subarray(i, i + 7)));
    out.push(...split.end());
    expect(out).toEqual([{ stream: 'Step 1/2 : FROM x' }, { stream: 'h\u00e9llo\n' }, { aux: { ID: 'sha256:ab' } }]);
  });

  test('keeps a line that is not JSON as text', () => {
    const split = new JsonLines();
    expect(split.push(Buffer.from('oops\n'))).toEqual([{ stream: 'oops\n' }]);
  });
});

describe('BuildProgress', () => {
  test('emits whole lines, tracks the step and the build containers', () => {
    const { progress, lines } = follow([
      { stream: 'Step 1/3 : FROM base' },
      { stream: '\n' },
      { stream: ' ---> 837f108028b4\n' },
      { stream: 'Step 2/3 : RUN make' },
      { stream: '\n' },
      { stream: ' ---> Running in 21de58306162\n' },
      { stream: 'compiling a' },
      { stream: 'nd linking\n10%\r50%\r100%\r\n' },
      { stream: 'Removing intermediate container 21de58306162\n' },
      { stream: 'Step 3/3 : RUN sleep 9' },
      { stream: '\n ---> Running in b826a2005b2d\n' },
      { stream: 'no newline at the end' },
    ]);
    expect(lines).toEqual([
      'Step 1/3 : FROM base',
      ' ---> 837f108028b4',
      'Step 2/3 : RUN make',
      ' ---> Running in 21de58306162',
      'compiling and linking',
      '100%',
      'Removing intermediate container 21de58306162',
      'Step 3/3 : RUN sleep 9',
      ' ---> Running in b826a2005b2d',
      'no newline at the end',
    ]);
    expect(progress.step).toEqual({ index: 3, total: 3 });
    expect([...progress.containers]).toEqual(['b826a2005b2d']);
  });

  test('records the error and the image id', () => {
    const failed = follow([
      { stream: 'Step 2/4 : RUN false\n' },
      { error: 'boom', errorDetail: { message: 'boom', code: 1 } },
    ]);
    expect(failed.progress.error).toBe('boom');
    expect(failed.lines).toEqual(['Step 2/4 : RUN false', 'boom']);
    const built = follow([
      { aux: { ID: 'sha256:aaa' } },
      { aux: { ID: 'sha256:bbb' } },
      { stream: 'Successfully built bbb000000000\n' },
    ]);
    expect(built.progress.imageId).toBe('sha256:bbb'); // the last stage's
  });

  test('shows pull status lines but not progress bars', () => {
    const { lines } = follow([
      { status: 'Pulling from library/node', id: '22' },
      { status: 'Downloading', progress: '[==> ]', id: 'abc' },
    ]);
    expect(lines).toEqual(['22: Pulling from library/node']);
  });

  test("remembers the last stage's EXPOSE ports in order", () => {
    const { progress } = follow([
      { stream: 'Step 1/5 : FROM golang AS build\n' },
      { stream: 'Step 2/5 : EXPOSE 5000\n' },
      { stream: 'Step 3/5 : FROM alpine\n' },
      { stream: 'Step 4/5 : EXPOSE 9000/tcp 80\n' },
      { stream: 'Step 5/5 : expose $PORT\n' },
    ]);
    expect(progress.exposed).toEqual(['9000/tcp', '80', '$PORT']);
    expect(firstExposedPort({ '80/tcp': {}, '9000/tcp': {}, '53/udp': {} }, progress.exposed)).toBe(9000);
  });
});

describe('bounded build output', () => {
  test('a 40 MB line without a newline, in small messages, is kept as its first 16 KiB', () => {
    const lines: string[] = [];
    const progress = new BuildProgress((l) => lines.push(l));
    const piece = 'x'.repeat(32 * 1024);
    for (let sent = 0; sent < 40e6; sent += piece.length) progress.handle({ stream: piece });
    progress.handle({ stream: ' end\nnext line\n' });
    progress.flush();
    expect(lines).toEqual([`${'x'.repeat(MAX_LINE_CHARS)} [line cut at 16 KiB]`, 'next line']);
  });

  test('a line of exactly 16 KiB is not marked as cut', () => {
    const { lines } = follow([{ stream: `${'y'.repeat(MAX_LINE_CHARS)}\n` }]);
    expect(lines).toEqual(['y'.repeat(MAX_LINE_CHARS)]);
  });

  test('one engine message split over thousands of chunks is parsed once', () => {
    const text = 'z'.repeat(4 * MiB);
    const bytes = Buffer.from(`${JSON.stringify({ stream: text })}\n`);
    const split = new JsonLines();
    const out: EngineMessage[] = [];
    for (let i = 0; i < bytes.length; i += 1024) out.push(...split.push(bytes.subarray(i, i + 1024)));
    expect(out).toEqual([{ stream: text }]);
  });

  test('an engine message over 8 MiB is left out with a note instead of held', () => {
    const split = new JsonLines();
    const chunk = Buffer.from('a'.repeat(MiB));
    const out: EngineMessage[] = [];
    for (let i = 0; i < 9; i++) out.push(...split.push(chunk));
    out.push(...split.push(Buffer.from('\n{"stream":"after"}\n')));
    expect(out).toEqual([{ stream: '[an engine message over 8 MiB was left out]\n' }, { stream: 'after' }]);
  });
});

describe('firstExposedPort', () => {
  test('falls back to the lowest inherited TCP port, or null', () => {
    expect(firstExposedPort({ '8080/tcp': {}, '443/tcp': {} }, [])).toBe(443);
    expect(firstExposedPort({ '53/udp': {} }, ['53/udp'])).toBeNull();
    expect(firstExposedPort(undefined, [])).toBeNull();
  });
});

describe('build error messages', () => {
  test('name the failing step', () => {
    const err = stepFailed(
      "The command '/bin/sh -c npm ci' returned a non-zero code: 1",
      { index: 3, total: 7 },
      64 * MiB,
    );
    expect(err).toBeInstanceOf(BuildError);
    expect(err.message).toBe("Dockerfile step 3/7 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1");
    expect(stepFailed('dockerfile parse error line 2: unknown instruction: FOO\n', null, MiB).message).toBe(
      'Build failed: dockerfile parse error line 2: unknown instruction: FOO',
    );
  });

  test('report a step killed with code 137 as running out of memory', () => {
    expect(
      stepFailed("The command '/bin/sh -c x' returned a non-zero code: 137", { index: 2, total: 4 }, 64 * MiB).message,
    ).toBe('Build ran out of memory (limit 64 MiB) at step 2/4');
  });

  test('say when a build timed out or was canceled', () => {
    expect(new BuildTimedOut(900_000, null).message).toBe('Build timed out after 900 s');
    expect(new BuildTimedOut(2500, { index: 3, total: 4 }).message).toBe('Build timed out after 2.5 s at step 3/4');
    expect(new BuildTimedOut(2500, null).canceled).toBe(false);
    expect(new BuildCanceled({ index: 1, total: 2 })).toMatchObject({
      message: 'Build canceled at step 1/2',
      canceled: true,
    });
  });
});
