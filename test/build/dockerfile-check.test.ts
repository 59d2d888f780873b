import { describe, expect, test } from 'bun:test';
import { checkDockerfile } from '../../src/build/dockerfile-check.ts';
import { expandWord, UnreadableWord } from '../../src/build/dockerfile-words.ts';
import {
  bunDockerfile,
  goDockerfile,
  nodeDockerfile,
  pythonDockerfile,
  staticDockerfile,
} from '../../src/build/dockerfiles.ts';
import { DEFAULT_IMAGES } from '../../src/config.ts';
import { BuildError, DockerfileRefused } from '../../src/deployments/failures.ts';

function refusal(text: string, path = 'Dockerfile'): string {
  try {
    checkDockerfile(text, path);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerfileRefused);
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).canceled).toBe(false);
    return (err as Error).message;
  }
  throw new Error('expected the Dockerfile to be refused');
}

const RELEASE_FROM = 'names a Slipway release image; builds may start only from public images';
const RELEASE_COPY = 'names a Slipway release image; builds may copy only from public images or earlier stages';
const REMOTE =
  "fetches a remote source, which the engine does outside the build network's rules; fetch it in a RUN step instead";

// [what, Dockerfile, the exact reason]
const hostile: [string, string, string][] = [
  ['FROM another project', 'FROM slipway/b:1\n', `Dockerfile refused at line 1: FROM slipway/b:1 ${RELEASE_FROM}`],
  [
    'FROM its own project (every slipway/ image is refused)',
    'FROM slipway/a:3-0123456789\n',
    `Dockerfile refused at line 1: FROM slipway/a:3-0123456789 ${RELEASE_FROM}`,
  ],
  [
    'FROM with the registry spelled out',
    'FROM docker.io/slipway/b:1\n',
    `Dockerfile refused at line 1: FROM docker.io/slipway/b:1 ${RELEASE_FROM}`,
  ],
  [
    'FROM index.docker.io',
    'FROM index.docker.io/slipway/b\n',
    `Dockerfile refused at line 1: FROM index.docker.io/slipway/b ${RELEASE_FROM}`,
  ],
  [
    'FROM by digest',
    `FROM slipway/b@sha256:${'a'.repeat(64)}\n`,
    `Dockerfile refused at line 1: FROM slipway/b@sha256:${'a'.repeat(64)} ${RELEASE_FROM}`,
  ],
  [
    'FROM the cluster registry (Swarm)',
    `FROM 10.77.0.1:5077/slipway/b@sha256:${'a'.repeat(64)}\n`,
    `Dockerfile refused at line 1: FROM 10.77.0.1:5077/slipway/b@sha256:${'a'.repeat(64)} ${RELEASE_FROM}`,
  ],
  [
    'FROM a named cluster registry',
    'FROM registry.internal:443/slipway/b:1-abc\n',
    `Dockerfile refused at line 1: FROM registry.internal:443/slipway/b:1-abc ${RELEASE_FROM}`,
  ],
  ['FROM in lower case', 'from slipway/b:1\n', `Dockerfile refused at line 1: FROM slipway/b:1 ${RELEASE_FROM}`],
  ['FROM with an escape', 'FROM slip\\way/b:1\n', `Dockerfile refused at line 1: FROM slip\\way/b:1 ${RELEASE_FROM}`],
  ['FROM with quotes', 'FROM "slipway/b":1\n', `Dockerfile refused at line 1: FROM "slipway/b":1 ${RELEASE_FROM}`],
  [
    'FROM continued over lines',
    'FROM slip\\\nway/b:1 AS x\n',
    `Dockerfile refused at line 1: FROM slipway/b:1 ${RELEASE_FROM}`,
  ],
  [
    'FROM a meta ARG',
    'ARG IMAGE=slipway/b:1\nFROM $IMAGE\n',
    `Dockerfile refused at line 2: FROM $IMAGE ${RELEASE_FROM}`,
  ],
  [
    'FROM meta ARGs built from each other',
    'ARG NS=slipway\nARG IMAGE=${NS}/b:1\nFROM ${IMAGE} AS base\n',
    `Dockerfile refused at line 3: FROM \${IMAGE} ${RELEASE_FROM}`,
  ],
  [
    'FROM the default of an ARG without one',
    'ARG X\nFROM ${X:-slipway/b:1}\n',
    `Dockerfile refused at line 2: FROM \${X:-slipway/b:1} ${RELEASE_FROM}`,
  ],
  [
    'FROM the default of an empty ARG',
    'ARG X=\nFROM ${X:-slipway/b:1}\n',
    `Dockerfile refused at line 2: FROM \${X:-slipway/b:1} ${RELEASE_FROM}`,
  ],
  [
    'FROM the alternative of a set ARG',
    'ARG X=1\nFROM ${X:+slipway/b:1}\n',
    `Dockerfile refused at line 2: FROM \${X:+slipway/b:1} ${RELEASE_FROM}`,
  ],
  [
    'FROM after a byte order mark and CRLF lines',
    '\uFEFFFROM node\r\nFROM slipway/b:1\r\n',
    `Dockerfile refused at line 2: FROM slipway/b:1 ${RELEASE_FROM}`,
  ],
  [
    'FROM in a later stage',
    'FROM node AS build\nRUN make\nFROM slipway/b:1\n',
    `Dockerfile refused at line 3: FROM slipway/b:1 ${RELEASE_FROM}`,
  ],
  [
    'FROM a substitution form that is not checked',
    'FROM ${X:?unset}\n',
    'Dockerfile refused at line 1: FROM ${X:?unset} uses a ${X:?…} form, which Slipway cannot check',
  ],
  [
    'FROM a pattern substitution',
    'ARG X=slipway-b\nFROM ${X/-//}:1\n',
    'Dockerfile refused at line 2: FROM ${X/-//}:1 uses a ${X/…} form, which Slipway cannot check',
  ],
  [
    'FROM by a full image ID',
    `FROM sha256:${'b'.repeat(64)}\n`,
    `Dockerfile refused at line 1: FROM sha256:${'b'.repeat(64)} names an image by ID; name it by repository and tag`,
  ],
  [
    'FROM by a short sha256 ID',
    'FROM sha256:f7eadcd57377\n',
    'Dockerfile refused at line 1: FROM sha256:f7eadcd57377 names an image by ID; name it by repository and tag',
  ],
  [
    'FROM by 64 hex digits',
    `FROM ${'c'.repeat(64)}\n`,
    `Dockerfile refused at line 1: FROM ${'c'.repeat(64)} names an image by ID; name it by repository and tag`,
  ],
  [
    'COPY --from another project',
    'FROM node\nCOPY --from=slipway/b:1 /app /app\n',
    `Dockerfile refused at line 2: COPY --from=slipway/b:1 ${RELEASE_COPY}`,
  ],
  [
    'COPY --from quoted',
    'FROM node\nCOPY --from="slipway/b:1" /app /app\n',
    `Dockerfile refused at line 2: COPY --from="slipway/b:1" ${RELEASE_COPY}`,
  ],
  [
    'COPY --from an image disguised as a stage name the engine would refuse',
    'FROM node AS slipway/b:1\nCOPY --from=slipway/b:1 /app /app\n',
    `Dockerfile refused at line 2: COPY --from=slipway/b:1 ${RELEASE_COPY}`,
  ],
  [
    'COPY --from a variable',
    'FROM node\nARG SRC=slipway/b:1\nCOPY --from=$SRC /a /a\n',
    'Dockerfile refused at line 3: COPY --from=$SRC uses a variable; name the stage or image itself',
  ],
  [
    'ADD --from another project',
    'FROM node\nADD --from=slipway/b:1 /app /app\n',
    `Dockerfile refused at line 2: ADD --from=slipway/b:1 ${RELEASE_COPY}`,
  ],
  [
    'COPY --from by ID',
    `FROM node\nCOPY --from=sha256:${'d'.repeat(64)} / /\n`,
    `Dockerfile refused at line 2: COPY --from=sha256:${'d'.repeat(64)} names an image by ID; name it by repository and tag`,
  ],
  [
    'RUN --mount from another project',
    'FROM node\nRUN --mount=type=bind,from=slipway/b:1,target=/b cat /b/secret\n',
    `Dockerfile refused at line 2: RUN --mount from=slipway/b:1 ${RELEASE_COPY}`,
  ],
  [
    'RUN --mount with a quoted source',
    'FROM node\nRUN --mount=type=cache,"from=slipway/b:1",target=/b true\n',
    `Dockerfile refused at line 2: RUN --mount from=slipway/b:1" ${RELEASE_COPY}`,
  ],
  [
    'a slipway label',
    'FROM node\nLABEL slipway.project=b\n',
    'Dockerfile refused at line 2: LABEL slipway.project sets a Slipway label; only Slipway sets those',
  ],
  [
    'a quoted slipway label among others',
    'FROM node\nLABEL version=1 "slipway.managed"=true\n',
    'Dockerfile refused at line 2: LABEL "slipway.managed" sets a Slipway label; only Slipway sets those',
  ],
  [
    'a single-quoted slipway label',
    "FROM node\nLABEL 'slipway.role'=database\n",
    "Dockerfile refused at line 2: LABEL 'slipway.role' sets a Slipway label; only Slipway sets those",
  ],
  [
    'a slipway label in the old key-space-value form',
    'FROM node\nLABEL slipway.deployment dep_1\n',
    'Dockerfile refused at line 2: LABEL slipway.deployment sets a Slipway label; only Slipway sets those',
  ],
  [
    'a slipway label in capitals',
    'FROM node\nLABEL Slipway.Project=b\n',
    'Dockerfile refused at line 2: LABEL Slipway.Project sets a Slipway label; only Slipway sets those',
  ],
  [
    'a slipway label with an escape inside',
    'FROM node\nLABEL slip\\way.agent=x\n',
    'Dockerfile refused at line 2: LABEL slip\\way.agent sets a Slipway label; only Slipway sets those',
  ],
  [
    'a slipway label split over lines with a comment between',
    'FROM node\nLABEL a=1 \\\n# the next one\n  slipway.number=9\n',
    'Dockerfile refused at line 2: LABEL slipway.number sets a Slipway label; only Slipway sets those',
  ],
  [
    'a slipway label in an early stage',
    'FROM node AS build\nLABEL slipway.x=1\nFROM node\n',
    'Dockerfile refused at line 2: LABEL slipway.x sets a Slipway label; only Slipway sets those',
  ],
  [
    'a label key from a variable',
    'FROM node\nARG K=slipway.project\nLABEL $K=b\n',
    'Dockerfile refused at line 3: LABEL $K uses a variable in its key',
  ],
  [
    'a slipway label under the backtick escape',
    '# escape=`\nFROM node\nLABEL a=1 `\n  slipway.role=app\n',
    'Dockerfile refused at line 3: LABEL slipway.role sets a Slipway label; only Slipway sets those',
  ],
  [
    'ONBUILD LABEL',
    'FROM node\nONBUILD LABEL slipway.project=b\n',
    'Dockerfile refused at line 2: LABEL slipway.project sets a Slipway label; only Slipway sets those',
  ],
  [
    'ONBUILD COPY --from',
    'FROM node\nONBUILD COPY --from=slipway/b:1 / /\n',
    `Dockerfile refused at line 2: COPY --from=slipway/b:1 ${RELEASE_COPY}`,
  ],
  [
    'ADD http://',
    'FROM node\nADD http://169.254.169.254/x /x\n',
    `Dockerfile refused at line 2: ADD http://169.254.169.254/x ${REMOTE}`,
  ],
  [
    'ADD https://',
    'FROM node\nADD https://example.com/a.tgz /a\n',
    `Dockerfile refused at line 2: ADD https://example.com/a.tgz ${REMOTE}`,
  ],
  [
    'ADD in capitals',
    'FROM node\nADD HTTP://127.0.0.1:7070/v1 /x\n',
    `Dockerfile refused at line 2: ADD HTTP://127.0.0.1:7070/v1 ${REMOTE}`,
  ],
  ['ADD quoted', 'FROM node\nADD "http://x/y" /z\n', `Dockerfile refused at line 2: ADD "http://x/y" ${REMOTE}`],
  [
    'ADD git@',
    'FROM node\nADD git@github.com:a/b.git /src\n',
    `Dockerfile refused at line 2: ADD git@github.com:a/b.git ${REMOTE}`,
  ],
  [
    'ADD git://',
    'FROM node\nADD git://host/repo /src\n',
    `Dockerfile refused at line 2: ADD git://host/repo ${REMOTE}`,
  ],
  [
    'ADD in JSON form',
    'FROM node\nADD ["http://x/y", "/z"]\n',
    `Dockerfile refused at line 2: ADD http://x/y ${REMOTE}`,
  ],
  [
    'ADD in JSON form with a \\u escape',
    'FROM node\nADD ["\\u0068ttp://x/y", "/z"]\n',
    `Dockerfile refused at line 2: ADD http://x/y ${REMOTE}`,
  ],
  [
    'ADD with the URL second',
    'FROM node\nADD local.txt http://x/y /z/\n',
    `Dockerfile refused at line 2: ADD http://x/y ${REMOTE}`,
  ],
  [
    'ADD with flags',
    'FROM node\nADD --chown=1:1 http://x/y /z\n',
    `Dockerfile refused at line 2: ADD http://x/y ${REMOTE}`,
  ],
  [
    'ADD from a variable',
    'FROM node\nENV U=http://x/y\nADD $U /z\n',
    'Dockerfile refused at line 3: ADD $U uses a variable, which could name a URL; use COPY for files of the upload',
  ],
  [
    'a heredoc hiding an instruction from a heredoc-aware reader',
    'FROM node\nRUN cat <<CMD\nFROM slipway/b:1\nCMD\n',
    "Dockerfile refused at line 2: heredocs (<<EOF) are not supported: the engine's classic builder would read their lines as instructions",
  ],
  [
    'a COPY heredoc',
    'FROM node\nCOPY <<EOF /x\nhello\nEOF\n',
    "Dockerfile refused at line 2: heredocs (<<EOF) are not supported: the engine's classic builder would read their lines as instructions",
  ],
  [
    'a rule broken in a Dockerfile at another path',
    'FROM slipway/b:1\n',
    `deploy/Dockerfile.prod refused at line 1: FROM slipway/b:1 ${RELEASE_FROM}`,
  ],
  [
    'a control character in the reported word',
    'FROM node\nADD ["http://x/\\u0007", "/z"]\n',
    `Dockerfile refused at line 2: ADD http://x/\\x07 ${REMOTE}`,
  ],
];

describe('checkDockerfile refuses', () => {
  for (const [what, text, message] of hostile) {
    test(what, () => {
      const path = message.startsWith('deploy/') ? 'deploy/Dockerfile.prod' : 'Dockerfile';
      expect(refusal(text, path)).toBe(message);
    });
  }

  test('names the line, the path and the reason as fields', () => {
    try {
      checkDockerfile('FROM node\n\nLABEL slipway.x=1\n', 'app/Dockerfile');
      throw new Error('expected a refusal');
    } catch (err) {
      expect(err).toMatchObject({
        path: 'app/Dockerfile',
        line: 3,
        reason: 'LABEL slipway.x sets a Slipway label; only Slipway sets those',
      });
    }
  });
});

// [what, Dockerfile, the images it uses as [how, ref]]
const allowed: [string, string, [string, string][]][] = [
  ['a public image', 'FROM node:22-alpine\nRUN npm ci\n', [['FROM', 'node:22-alpine']]],
  ['scratch', 'FROM scratch\nCOPY app /app\n', []],
  [
    'stages by name and index, in any case',
    'FROM golang:1.24 AS Build\nRUN go build\nFROM build AS test\nFROM alpine\nCOPY --from=BUILD /out /app\nCOPY --from=0 /x /x\n',
    [
      ['FROM', 'golang:1.24'],
      ['FROM', 'alpine'],
    ],
  ],
  [
    'COPY --from a public image',
    'FROM alpine\nCOPY --from=nginx:1 /etc/nginx /etc/nginx\n',
    [
      ['FROM', 'alpine'],
      ['COPY --from', 'nginx:1'],
    ],
  ],
  [
    'meta ARGs in FROM',
    'ARG NODE=22\nARG VARIANT=alpine\nFROM node:${NODE}-${VARIANT}\n',
    [['FROM', 'node:22-alpine']],
  ],
  ['an ARG redeclared without a default', 'ARG V=22\nARG V\nFROM node:${V:-20}\n', [['FROM', 'node:20']]],
  ['FROM --platform', 'FROM --platform=$BUILDPLATFORM golang:1.24 AS b\n', [['FROM', 'golang:1.24']]],
  ['an image whose name merely contains slipway', 'FROM acme/slipway-tools:1\n', [['FROM', 'acme/slipway-tools:1']]],
  // Not slipway/… in it: on Swarm, every registry's slipway/ repositories are refused (cluster registry).
  ['a registry of its own', 'FROM registry.example.com/team/b:1\n', [['FROM', 'registry.example.com/team/b:1']]],
  [
    'labels, ADD of local files and a remote fetch in RUN',
    'FROM alpine\nLABEL org.opencontainers.image.title="app" maintainer=me\nADD app.tar.gz /app\nRUN wget -O /x https://example.com/x\n',
    [['FROM', 'alpine']],
  ],
  ['a shell heredoc on one line is not a thing; << in a word is', 'FROM alpine\nRUN echo a<b\n', [['FROM', 'alpine']]],
  ['a backslash at the end with the backtick escape', '# escape=`\nFROM alpine\nRUN dir c:\\\n', [['FROM', 'alpine']]],
];

describe('checkDockerfile allows', () => {
  for (const [what, text, images] of allowed) {
    test(what, () => {
      expect(checkDockerfile(text, 'Dockerfile').images.map((u) => [u.how, u.ref])).toEqual(images);
    });
  }

  test('every generated Dockerfile, with the default base images', () => {
    const generated = [
      staticDockerfile(DEFAULT_IMAGES.static),
      nodeDockerfile(DEFAULT_IMAGES.node, 'npm-ci', ['node', 'server.js']),
      nodeDockerfile(DEFAULT_IMAGES.node, null, ['sh', '-c', 'exec node $APP']),
      bunDockerfile(DEFAULT_IMAGES.bun, ['bun.lock'], ['bun', 'run', 'start']),
      pythonDockerfile(DEFAULT_IMAGES.python, 'requirements.txt', ['python', 'app.py']),
      pythonDockerfile(DEFAULT_IMAGES.python, 'pyproject.toml', ['python', 'main.py']),
      goDockerfile(DEFAULT_IMAGES.go, DEFAULT_IMAGES.goRuntime, true),
    ];
    expect(generated.map((d) => checkDockerfile(d, '.slipway/Dockerfile').bases.map((u) => u.ref))).toEqual([
      ['busybox:1.37'],
      ['node:22-alpine'],
      ['node:22-alpine'],
      ['oven/bun:1-alpine'],
      ['python:3.13-slim'],
      ['python:3.13-slim'],
      ['golang:1.24-alpine', 'alpine:3.21'],
    ]);
  });
});

describe('expandWord reads a word as the engine does', () => {
  const vars = new Map([
    ['A', 'alpha'],
    ['EMPTY', ''],
  ]);
  const cases: [string, string][] = [
    ['plain', 'plain'],
    ['$A', 'alpha'],
    ['${A}', 'alpha'],
    ['x${A}y', 'xalphay'],
    ['$A_B', ''],
    ['${UNSET}', ''],
    ['${UNSET:-d}', 'd'],
    ['${UNSET-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${A:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${UNSET:-${A}}', 'alpha'],
    ["'$A'", '$A'],
    ['"$A"', 'alpha'],
    ['"a\\"b"', 'a"b'],
    ['"a\\xb"', 'a\\xb'],
    ['\\$A', '$A'],
    ['a\\', 'a'],
    ['$', '$'],
    ['$1', ''],
    ['$@x', 'x'],
  ];
  for (const [word, expected] of cases) {
    test(`${word} is ${JSON.stringify(expected)}`, () => {
      expect(expandWord(word, vars, '\\')).toBe(expected);
    });
  }

  test('uses the escape directive’s character', () => {
    expect(expandWord('a`$A\\', vars, '`')).toBe('a$A\\');
  });

  const unreadable: [string, string][] = [
    ['${A:?x}', 'uses a ${A:?…} form'],
    ['${A#a}', 'uses a ${A#…} form'],
    ['${A%a}', 'uses a ${A%…} form'],
    ['${A', 'uses a ${A…} form'],
    ['${}', 'has a bad ${…} substitution'],
    ['${A:-x', 'has no closing "}"'],
    ["'open", 'has an unclosed single quote'],
    ['"open', 'has an unclosed double quote'],
  ];
  for (const [word, message] of unreadable) {
    test(`${word} cannot be read: ${message}`, () => {
      expect(() => expandWord(word, vars, '\\')).toThrow(new UnreadableWord(message));
    });
  }
});
