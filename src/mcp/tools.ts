/**
 * The MCP server's tools: each a call of the REST API with the CLI's token, available from the
 * token scope it needs (read < deploy < admin), so a read token is offered the read tools only.
 */
import { z } from 'zod';
import { type ApiClient, seg } from '../cli/client.ts';
import { deployDirectory, logTail } from './deploy.ts';

/** A token scope. */
export type Scope = 'read' | 'deploy' | 'admin';

/** One tool: its input (a zod shape), the scope it needs, and what it does. */
export interface Tool {
  name: string;
  title: string;
  description: string;
  scope: Scope;
  readOnly: boolean;
  input: z.ZodRawShape;
  run(client: ApiClient, args: Record<string, unknown>, cwd: string): Promise<unknown>;
}

const project = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/)
  .describe('The project name (a DNS label)');
const deploymentId = z.string().min(1).max(64).describe('A deployment id, dep_…');
const limit = z.number().int().min(1).max(100).optional().describe('At most this many, newest first (default 20)');
const p = (args: Record<string, unknown>) => seg(args.project as string);

/** Every tool, in the order they are listed. */
export const TOOLS: Tool[] = [
  {
    name: 'status',
    title: 'Agent status',
    description: "The agent's health (version, Docker, database) and the calling token's scope and projects",
    scope: 'read',
    readOnly: true,
    input: {},
    run: async (c) => ({ health: await c.get('/v1/health'), token: await c.get('/v1/me') }),
  },
  {
    name: 'list_projects',
    title: 'List projects',
    description: 'Every project the token may see, with its settings, host name and live deployment',
    scope: 'read',
    readOnly: true,
    input: {},
    run: (c) => c.list('/v1/projects', {}, 500),
  },
  {
    name: 'get_project',
    title: 'Show a project',
    description: 'One project: settings, host name, instances, live deployment',
    scope: 'read',
    readOnly: true,
    input: { project },
    run: (c, a) => c.get(`/v1/projects/${p(a)}`),
  },
  {
    name: 'list_deployments',
    title: 'List deployments',
    description:
      "A project's deployments, newest first, with status (queued, building, deploying, live, failed, canceled, replaced) and failure reason",
    scope: 'read',
    readOnly: true,
    input: { project, limit },
    run: (c, a) => c.list(`/v1/projects/${p(a)}/deployments`, {}, (a.limit as number) ?? 20),
  },
  {
    name: 'get_deployment',
    title: 'Show a deployment',
    description: 'One deployment: status, failure reason, trigger, timings',
    scope: 'read',
    readOnly: true,
    input: { project, deployment_id: deploymentId },
    run: (c, a) => c.get(`/v1/projects/${p(a)}/deployments/${seg(a.deployment_id as string)}`),
  },
  {
    name: 'deployment_logs',
    title: 'Deployment log',
    description: "The end of a deployment's build and deploy log (secret values masked)",
    scope: 'read',
    readOnly: true,
    input: {
      project,
      deployment_id: deploymentId,
      lines: z.number().int().min(1).max(5000).optional().describe('How many last lines (default 200)'),
    },
    run: async (c, a) => ({
      log: await logTail(c, a.project as string, a.deployment_id as string, (a.lines as number) ?? 200),
    }),
  },
  {
    name: 'list_env',
    title: 'List env vars',
    description: "A project's environment variables; values are always masked (this tool never reveals them)",
    scope: 'read',
    readOnly: true,
    input: { project },
    run: (c, a) => c.get(`/v1/projects/${p(a)}/env`),
  },
  {
    name: 'list_domains',
    title: 'List domains',
    description: "A project's custom domains: status, DNS records to create, certificate",
    scope: 'read',
    readOnly: true,
    input: { project },
    run: (c, a) => c.list(`/v1/projects/${p(a)}/domains`, {}, 500),
  },
  {
    name: 'dead_letter',
    title: 'Dead letter',
    description:
      'What gave up, newest first: failed deployments with their reasons, webhook deliveries out of retries, failed backups and certificate renewals; each with its retry',
    scope: 'read',
    readOnly: true,
    input: {
      project: project.optional().describe('Only this project'),
      limit,
      cursor: z.string().max(512).optional().describe('next_cursor of the previous page'),
    },
    run: (c, a) =>
      c.get('/v1/ops/dead-letter', {
        project: a.project as string | undefined,
        limit: (a.limit as number) ?? 20,
        cursor: a.cursor as string | undefined,
      }),
  },
  {
    name: 'deploy_directory',
    title: 'Deploy a directory',
    description:
      "Packs a local directory as `slipway deploy` does (honouring .slipwayignore/.dockerignore, leaving .git and .env files out), uploads it and by default waits until the deployment is live or failed; a failure's log tail is included",
    scope: 'deploy',
    readOnly: false,
    input: {
      directory: z
        .string()
        .min(1)
        .describe("The app's source directory (absolute, or relative to where the server runs)"),
      project: project.optional().describe("The project (default: the directory's name)"),
      create: z.boolean().optional().describe('Create the project when it does not exist (default false)'),
      wait: z.boolean().optional().describe('Wait for live or failed (default true)'),
      timeout_seconds: z.number().int().min(1).max(3600).optional().describe('How long to wait (default 600)'),
    },
    run: (c, a, cwd) => deployDirectory(c, cwd, a as never),
  },
  {
    name: 'rollback',
    title: 'Roll back',
    description:
      'Makes an earlier live release live again (same image and env, no rebuild): the one before the current, or the deployment named',
    scope: 'deploy',
    readOnly: false,
    input: {
      project,
      deployment_id: deploymentId.optional().describe('The release to go back to (default: the previous one)'),
    },
    run: (c, a) =>
      c.json('POST', `/v1/projects/${p(a)}/rollback`, {
        body: a.deployment_id ? { deployment_id: a.deployment_id } : {},
      }),
  },
];

const RANK: Record<Scope, number> = { read: 0, deploy: 1, admin: 2 };

/** The tools a token of `scope` may use. */
export function toolsFor(scope: Scope): Tool[] {
  return TOOLS.filter((t) => RANK[t.scope] <= RANK[scope]);
}
