/**
 * Build planning: from the normalised upload's paths and captured manifests to the Dockerfile
 * that will build it. Planning reads nothing from disk and talks to no engine, so every
 * "cannot build this" answer comes before any build starts.
 */
import type { BaseImages } from '../config.ts';
import { cleanProjectPath, detectStack, NO_STACK_MESSAGE, type Stack } from './detect.ts';
import {
  bunDockerfile,
  goDockerfile,
  nodeDockerfile,
  pythonDockerfile,
  staticDockerfile,
  type NodeInstaller,
} from './dockerfiles.ts';
import { BuildError } from '../deployments/failures.ts';
import { checkDockerfile, type CheckedDockerfile } from './dockerfile-check.ts';
import { capturedText, firstPresent, procfileWeb, readPackageJson, shellCmd, type SourceFiles } from './manifests.ts';

/** What to build and with which Dockerfile. */
export interface BuildPlan {
  stack: Stack;
  dockerfilePath: string;
  /** set when Slipway generated it */
  generatedDockerfile: string | null;
  dockerignore: string | null;
  /** What checking the Dockerfile found: the images it uses. */
  checked: CheckedDockerfile;
}

/** Where a generated Dockerfile goes in the build context; the upload may not use this directory. */
export const GENERATED_DIR = '.slipway';

/** The path of a generated Dockerfile in the build context. */
export const GENERATED_DOCKERFILE = `${GENERATED_DIR}/Dockerfile`;

/**
 * Decides how a stored source is built: with its own Dockerfile (at the root, or where the
 * project's `dockerfile` setting says) when it has one, else with a Dockerfile generated for the
 * detected stack. Throws BuildError when it has neither, naming what was looked for, or when the
 * files of its stack cannot be used (invalid package.json, a lockfile without its manifest), and
 * DockerfileRefused for a Dockerfile (the upload's or a generated one) that breaks a rule.
 */
export function planBuild(
  source: SourceFiles,
  opts: { projectDockerfile: string | null; images: BaseImages },
): BuildPlan {
  const present = new Set(source.paths);
  const dockerignore = capturedText(source, '.dockerignore', present);
  const own = ownDockerfile(present, opts.projectDockerfile);
  if (own !== null) {
    // The upload's Dockerfile must be readable to be checked: a symlink or an oversized one is refused.
    const checked = checkDockerfile(capturedText(source, own, present)!, own);
    return { stack: 'dockerfile', dockerfilePath: own, generatedDockerfile: null, dockerignore, checked };
  }

  const stack = detectStack(present);
  if (stack === null) throw new BuildError(NO_STACK_MESSAGE);
  const clash = source.paths.find((p) => p === GENERATED_DIR || p.startsWith(`${GENERATED_DIR}/`));
  if (clash !== undefined) {
    throw new BuildError(
      `Cannot generate a Dockerfile: "${clash}" is in ${GENERATED_DIR}/, which Slipway reserves for it`,
    );
  }
  const generatedDockerfile = generate(stack, source, present, opts.images);
  // Held to the same rules: the base images come from the configuration, which could name anything.
  const checked = checkDockerfile(generatedDockerfile, GENERATED_DOCKERFILE);
  return { stack, dockerfilePath: GENERATED_DOCKERFILE, generatedDockerfile, dockerignore, checked };
}

// The project's setting, when set, must exist: silently falling back to detection would build
// something other than what the project asked for.
function ownDockerfile(present: ReadonlySet<string>, setting: string | null): string | null {
  if (setting !== null) {
    const path = cleanProjectPath(setting);
    if (path === '' || !present.has(path)) {
      throw new BuildError(`The project's Dockerfile "${setting}" is not in the upload`);
    }
    return path;
  }
  return present.has('Dockerfile') ? 'Dockerfile' : null;
}

function generate(
  stack: Exclude<Stack, 'dockerfile'>,
  source: SourceFiles,
  present: ReadonlySet<string>,
  images: BaseImages,
): string {
  switch (stack) {
    case 'static':
      return staticDockerfile(images.static);
    case 'node':
      return planNode(source, present, images.node);
    case 'bun':
      return planBun(source, present, images.bun);
    case 'python':
      return planPython(source, present, images.python);
    case 'go':
      return goDockerfile(images.go, images.goRuntime, present.has('go.sum'));
  }
}

function planNode(source: SourceFiles, present: ReadonlySet<string>, image: string): string {
  const pkg = readPackageJson(capturedText(source, 'package.json', present)!);
  // Without dependencies there is nothing to install, and images without npm can still build.
  const installer = pkg.hasDependencies ? nodeInstaller(present) : null;
  // npm is not in every image and does not forward signals, so the start script runs directly.
  if (pkg.start !== null) return nodeDockerfile(image, installer, shellCmd(pkg.start));
  const entry = pkg.main ?? firstPresent(present, ['server.js', 'index.js']);
  if (entry === null) {
    throw new BuildError(
      'Cannot start the Node app: package.json has no "start" script or "main", and there is no server.js or index.js',
    );
  }
  return nodeDockerfile(image, installer, ['node', entry]);
}

// The lockfile decides the package manager, in the order npm, yarn, pnpm; without one, npm resolves afresh.
function nodeInstaller(present: ReadonlySet<string>): NodeInstaller {
  if (present.has('package-lock.json')) return 'npm-ci';
  if (present.has('yarn.lock')) return 'yarn';
  if (present.has('pnpm-lock.yaml')) return 'pnpm';
  return 'npm-install';
}

function planBun(source: SourceFiles, present: ReadonlySet<string>, image: string): string {
  const text = capturedText(source, 'package.json', present);
  if (text === null) throw new BuildError('Cannot build the Bun app: there is a bun.lock but no package.json');
  const pkg = readPackageJson(text);
  const lockfiles = ['bun.lock', 'bun.lockb'].filter((f) => present.has(f));
  if (pkg.start !== null) return bunDockerfile(image, lockfiles, ['bun', 'run', 'start']);
  const entry = pkg.main ?? firstPresent(present, ['index.ts', 'index.js', 'server.ts', 'server.js']);
  if (entry === null) {
    throw new BuildError(
      'Cannot start the Bun app: package.json has no "start" script or "main", and there is no index.ts, index.js, server.ts or server.js',
    );
  }
  return bunDockerfile(image, lockfiles, ['bun', entry]);
}

function planPython(source: SourceFiles, present: ReadonlySet<string>, image: string): string {
  const manifest = present.has('requirements.txt') ? 'requirements.txt' : 'pyproject.toml';
  const procfile = capturedText(source, 'Procfile', present);
  const web = procfile === null ? null : procfileWeb(procfile);
  if (web !== null) return pythonDockerfile(image, manifest, shellCmd(web));
  const script = firstPresent(present, ['app.py', 'main.py']);
  if (script === null) {
    throw new BuildError(
      'Cannot start the Python app: there is no Procfile with a "web:" line, and no app.py or main.py',
    );
  }
  return pythonDockerfile(image, manifest, ['python', script]);
}
