/** The `deploy_directory` tool: pack a directory as `slipway deploy` does, upload it, and wait for the outcome. */
import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ApiError } from '../cli/errors.ts';
import { type ApiClient, seg } from '../cli/client.ts';
import { projectNameFromDir } from '../cli/context.ts';
import { packStream, planPack } from '../cli/pack.ts';
import type { Deployment, Project } from '../cli/api-types.ts';
import { FINAL_STATUSES } from '../cli/api-types.ts';

/** What the tool was asked. */
export interface DeployInput {
  directory: string;
  project?: string;
  create?: boolean;
  wait?: boolean;
  timeout_seconds?: number;
}

/** What the tool answers: the deployment, with the end of its log when it did not go live. */
export interface DeployOutcome {
  deployment: Deployment;
  url: string | null;
  left_out_secret_files: string[];
  log_tail?: string;
}

/** Packs `input.directory` (absolute, or relative to `cwd`) and deploys it. */
export async function deployDirectory(client: ApiClient, cwd: string, input: DeployInput): Promise<DeployOutcome> {
  const root = isAbsolute(input.directory) ? input.directory : resolve(cwd, input.directory);
  if (!statSync(root, { throwIfNoEntry: false })?.isDirectory())
    throw new ToolInputError(`"${input.directory}" is not a directory`);
  const name = input.project ?? projectNameFromDir(root);
  const project = await ensureProject(client, name, input.create === true);
  const plan = planPack(root);
  let dep = await client.json<Deployment>('POST', `/v1/projects/${seg(name)}/deployments`, {
    body: packStream(plan, () => {}),
    headers: { 'content-type': 'application/gzip' },
  });
  if (input.wait !== false) dep = await waitForEnd(client, name, dep, (input.timeout_seconds ?? 600) * 1000);
  const outcome: DeployOutcome = {
    deployment: dep,
    url: dep.status === 'live' ? `http://${project.hostname}` : null,
    left_out_secret_files: plan.secretFiles,
  };
  if (FINAL_STATUSES.includes(dep.status as never) && dep.status !== 'live')
    outcome.log_tail = await logTail(client, name, dep.id, 40);
  return outcome;
}

/** A tool argument that cannot work; reported to the agent as a tool error. */
export class ToolInputError extends Error {}

/** The last `lines` lines of a deployment's build and deploy log. */
export async function logTail(client: ApiClient, project: string, id: string, lines: number): Promise<string> {
  const res = await client.request('GET', `/v1/projects/${seg(project)}/deployments/${seg(id)}/logs`);
  return (await res.text())
    .split('\n')
    .slice(-lines - 1)
    .join('\n');
}

async function ensureProject(client: ApiClient, name: string, create: boolean): Promise<Project> {
  try {
    return await client.get<Project>(`/v1/projects/${seg(name)}`);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404 || !create) throw err;
  }
  return client.json<Project>('POST', '/v1/projects', { body: { name } });
}

async function waitForEnd(client: ApiClient, project: string, dep: Deployment, timeoutMs: number): Promise<Deployment> {
  const deadline = Date.now() + timeoutMs;
  let current = dep;
  while (!FINAL_STATUSES.includes(current.status as never) && Date.now() < deadline) {
    await Bun.sleep(500);
    current = await client.get<Deployment>(`/v1/projects/${seg(project)}/deployments/${seg(dep.id)}`);
  }
  return current;
}
