import type Docker from 'dockerode';
import type { ActivityService, Actor } from '../activity/service.ts';
import type { ProjectRepo } from '../db/projects.ts';
import type { Lifecycle } from '../deployments/lifecycle.ts';
import { AppError, ConflictError, NotFoundError } from '../errors.ts';
import { findProject } from '../projects/find.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ExecBridge, type ExecSocket } from './bridge.ts';
import { startExec, type ExecRequest } from './docker-exec.ts';
import type { ExecSessions } from './sessions.ts';

/** The instance a session runs in. */
export interface Picked {
  containerId: string;
  instance: string;
}

/** An exec that passed every check and holds its session slot; it runs once the WebSocket opens. */
export interface ExecPlan {
  containerId: string;
  instance: string;
  request: ExecRequest;
  release: () => void;
}

/** Runs commands in a project's live instances over a WebSocket (see protocol.ts). */
export function execService(d: {
  docker: Docker;
  runtime: Runtime;
  projects: ProjectRepo;
  lifecycle: Lifecycle;
  activity: ActivityService;
  sessions: ExecSessions;
  idleTimeoutMs: number;
}) {
  return {
    /**
     * The checks of a session, without side effects: the project, a running instance of its live
     * release (the one named, else the first), and a free session slot for the token. Throws the
     * API error to answer instead of upgrading; returns the instance.
     */
    async check(name: string, instance: string | undefined, actor: Actor): Promise<Picked> {
      const project = findProject(d.projects, name);
      const live = d.lifecycle.liveOf(project.id);
      const running = live
        ? (await d.runtime.list(project)).filter(
            (i): i is typeof i & { containerId: string } =>
              i.deploymentId === live.id && i.state === 'running' && i.containerId !== null,
          )
        : [];
      const picked = instance ? running.find((i) => i.instance === instance) : running[0];
      if (instance && !picked)
        throw new NotFoundError(`No running instance "${instance}" in the live release of "${name}"`);
      if (!picked) throw new ConflictError(`Cannot exec in "${name}": no instance of a live release is running`);
      if (d.sessions.openOf(slotOf(actor)) >= d.sessions.max) throw tooMany(actor, d.sessions.max);
      return { containerId: picked.containerId, instance: picked.instance };
    },

    /** Takes the token's session slot and records the command in the activity log, right before the upgrade. */
    claim(name: string, picked: Picked, request: ExecRequest, actor: Actor): ExecPlan {
      const release = d.sessions.acquire(slotOf(actor));
      if (!release) throw tooMany(actor, d.sessions.max);
      d.activity.record(actor, {
        action: 'project.exec',
        targetType: 'project',
        target: name,
        project: name,
        changes: { command: request.cmd, tty: request.tty, instance: picked.instance },
      });
      return { ...picked, request, release };
    },

    /** Starts the planned command for an opened WebSocket; returns the bridge that takes its frames. */
    open(plan: ExecPlan, socket: ExecSocket): ExecBridge {
      const bridge = new ExecBridge(socket, d.idleTimeoutMs, plan.release);
      startExec(d.docker, plan.containerId, plan.request, (stream, bytes) => bridge.output(stream, bytes)).then(
        (exec) => bridge.attach(exec, { type: 'started', instance: plan.instance, tty: plan.request.tty }),
        (err: Error) => bridge.failed(`Cannot start the command: ${err.message}`),
      );
      return bridge;
    },
  };
}

function slotOf(actor: Actor): string {
  return actor.tokenId ?? 'anonymous';
}

function tooMany(actor: Actor, max: number): AppError {
  return new AppError(
    'rate_limited',
    `Cannot open another exec session: token "${actor.tokenName}" already has ${max} open`,
  );
}

/** The exec service. */
export type ExecService = ReturnType<typeof execService>;
