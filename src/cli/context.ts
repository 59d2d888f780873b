/**
 * What every API command shares: the Io, a client made on first use (so `--help` and usage
 * errors never need credentials), the project a command is about and deployment references.
 */
import { basename, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { ApiClient, seg } from './client.ts';
import { resolveCredentials } from './credentials.ts';
import { FailedError, UsageError } from './errors.ts';
import type { Io } from './io.ts';
import type { Deployment } from './api-types.ts';

/** The Io of the invocation and its client. */
export interface Ctx {
  io: Io;
  client(): ApiClient;
}

/** A project name: a DNS label, as the API requires. */
export const PROJECT_NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** Makes the context; credentials are resolved when a command first sends a request. */
export function createCtx(io: Io): Ctx {
  const client = new ApiClient(() => resolveCredentials(io.env, io.cwd));
  return { io, client: () => client };
}

/** A project name made from a directory name: lower-cased, other characters as dashes, a DNS label. */
export function projectNameFromDir(dir: string): string {
  const name = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!PROJECT_NAME.test(name)) {
    throw new UsageError(
      `Cannot make a project name from the directory "${basename(resolve(dir))}": pass --project <name>`,
    );
  }
  return name;
}

/** Checks a project name given on the command line. */
export function checkProjectName(name: string): string {
  if (!PROJECT_NAME.test(name)) {
    throw new UsageError(
      `"${name}" is not a valid project name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters`,
    );
  }
  return name;
}

/** Adds `-p, --project <name>` (default: the current directory's name). */
export function withProject(cmd: Command): Command {
  return cmd.addOption(new Option('-p, --project <name>', "the project (default: the current directory's name)"));
}

/** The project a command is about: --project, else the current directory's name. */
export function projectOf(ctx: Ctx, opts: { project?: string }): string {
  return opts.project !== undefined ? checkProjectName(opts.project) : projectNameFromDir(ctx.io.cwd);
}

/** Finds a deployment by id (`dep_…`) or number (`3` or `#3`). */
export async function findDeployment(ctx: Ctx, project: string, ref: string): Promise<Deployment> {
  const m = /^#?(\d+)$/.exec(ref);
  if (!m) return ctx.client().get<Deployment>(`/v1/projects/${seg(project)}/deployments/${seg(ref)}`);
  const number = Number(m[1]);
  // The history is newest first and numbered 1, 2, 3…: page until the number is passed.
  let cursor: string | undefined;
  do {
    const page = await ctx
      .client()
      .get<{ data: Deployment[]; pagination: { next_cursor: string | null; has_more: boolean } }>(
        `/v1/projects/${seg(project)}/deployments`,
        { limit: 100, cursor },
      );
    const hit = page.data.find((d) => d.number === number);
    if (hit) return hit;
    if (page.data.length === 0 || page.data.at(-1)!.number < number) break;
    cursor = page.pagination.has_more ? (page.pagination.next_cursor ?? undefined) : undefined;
  } while (cursor);
  throw new FailedError(`No deployment #${number} in project "${project}"`);
}

/** Parses a whole number option within bounds, or throws a usage error naming the option. */
export function intOption(name: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
      throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
    return Number(raw);
  };
}
