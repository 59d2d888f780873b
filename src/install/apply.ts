/** Carries out the steps of an install or uninstall plan, reporting each one as it is done. */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type Docker from 'dockerode';
import { getMeta } from '../db/meta.ts';
import type { openDatabase as OpenDatabase } from '../db/open.ts';
import { describeStep, type Step } from './plan.ts';
import { LABEL, labelFilter } from '../runtime/labels.ts';

/** Runs a command; the default uses spawnSync with an argument array, never a shell. */
export type Runner = (argv: string[]) => { status: number | null; output: string };

/** A step that could not be carried out; earlier steps stay done. */
export class StepError extends Error {
  override name = 'StepError';
}

/** What a purge needs to know of the agent whose data directory is being removed. */
export interface AgentRecord {
  id: string;
  projects: string[];
}

/** The agent id and project names recorded in `<dataDir>/slipway.db`, or null when there is none. */
export function readAgent(dataDir: string): AgentRecord | null {
  const file = `${dataDir}/slipway.db`;
  if (!existsSync(file)) return null;
  // SQLite's native addon loads for uninstall only, not at every CLI start.
  const { openDatabase } = require('../db/open.ts') as { openDatabase: typeof OpenDatabase };
  const db = openDatabase(file);
  try {
    const id = getMeta(db, 'agent_id');
    const projects = (db.prepare('SELECT name FROM projects').all() as { name: string }[]).map((r) => r.name);
    return id ? { id, projects } : null;
  } finally {
    db.close();
  }
}

/** The runner of real installs. */
export const spawnRunner: Runner = (argv) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error) return { status: null, output: r.error.message };
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
};

/** What apply needs from the outside world. */
export interface ApplyDeps {
  report: (line: string) => void;
  run: Runner;
  /** Made only for a purge. */
  docker: () => Docker;
  /** This agent's id (the `slipway.agent` label of its Docker objects) and project names; null without a database. */
  agent: () => AgentRecord | null;
}

/** Carries out `steps` in order; throws StepError naming the first one that fails. */
export async function applyPlan(steps: Step[], deps: ApplyDeps): Promise<void> {
  for (const step of steps) {
    try {
      await applyStep(step, deps);
    } catch (err) {
      if (err instanceof StepError) throw err;
      throw new StepError(`${describeStep(step, false)}: ${(err as Error).message}`);
    }
    deps.report(describeStep(step, false));
  }
}

async function applyStep(step: Step, deps: ApplyDeps): Promise<void> {
  switch (step.kind) {
    case 'copy':
      // Written beside the target and renamed over it: a running executable cannot be written to.
      return replaceFile(step.to, step.mode, (tmp) => copyFileSync(step.from, tmp));
    case 'write':
      // Created private, then given its mode: the content is never readable by others, whatever the umask.
      return replaceFile(step.path, step.mode, (tmp) => writeFileSync(tmp, step.content, { mode: 0o600 }));
    case 'chmod':
      return chmodSync(step.path, step.mode);
    case 'mkdir':
      mkdirSync(step.path, { recursive: true, mode: step.mode });
      // mkdir's mode is filtered by the umask (0077 in slipway), and an existing directory keeps its own.
      return chmodSync(step.path, step.mode);
    case 'remove':
      return rmSync(step.path, { force: true, recursive: step.recursive });
    case 'keep':
      return;
    case 'run': {
      if (step.skip) return;
      const r = deps.run(step.argv);
      if (r.status !== 0)
        throw new StepError(
          `\`${step.argv.join(' ')}\` failed (exit ${r.status ?? 'none'})${r.output ? `: ${r.output}` : ''}`,
        );
      return;
    }
    case 'purge-docker':
      return purgeDocker(deps);
  }
}

function replaceFile(path: string, mode: number, write: (tmp: string) => void): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.slipway-${process.pid}.tmp`;
  try {
    write(tmp);
    chmodSync(tmp, mode);
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes this agent's containers, volumes and images (label `slipway.agent`), then its projects'
 * networks (which carry no agent label). Another agent's objects on the same engine are never
 * touched; an engine that does not answer is reported, not fatal.
 */
async function purgeDocker(deps: ApplyDeps): Promise<void> {
  const agent = deps.agent();
  if (!agent) return deps.report('note   no database, so no agent id: nothing removed from Docker');
  const docker = deps.docker();
  const filters = { label: [`${LABEL.agent}=${agent.id}`] };
  let containers: Docker.ContainerInfo[];
  try {
    containers = await docker.listContainers({ all: true, filters });
  } catch (err) {
    return deps.report(`note   Docker did not answer (${(err as Error).message}): nothing removed from it`);
  }
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true });
  for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove();
  const images = await docker.listImages({ all: true, filters });
  for (const i of images.sort((a, b) => b.Created - a.Created))
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch(() => {});
  for (const project of agent.projects) {
    for (const n of await docker.listNetworks({
      filters: { label: labelFilter({ project }) },
    })) {
      await docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => {});
    }
  }
}
