import type Docker from 'dockerode';
import type { Instance } from '../runtime.ts';
import { nodesById } from './swarm-client.ts';
import { instanceId, type TaskInfo, taskTarget } from './tasks.ts';

/** Task states that mean the release cannot run: its process ended, or no node could run it. */
const FAILED_STATES = new Set(['failed', 'rejected', 'complete']);

/** How often a start looks at its tasks. */
const POLL_MS = 200;

/** A release service whose tasks could not start: Swarm's own words for the first failed task. */
export class TasksDidNotStart extends Error {
  override readonly name = 'TasksDidNotStart';
}

/**
 * Waits until `count` tasks of the service run with a published port and returns them as
 * instances (`<service name>.<slot>`). Returns the first task whose process ended instead (with no
 * target), for the health gate to report; throws as soon as a task could not start (its image
 * cannot be pulled, no node fits it) or after `timeoutMs`.
 */
export async function waitStarted(
  docker: Docker,
  service: { id: string; name: string },
  count: number,
  timeoutMs: number,
): Promise<Instance[]> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no task was scheduled';
  while (true) {
    const tasks = (await docker.listTasks({ filters: { service: [service.id] } })) as TaskInfo[];
    const failed = tasks.find((t) => FAILED_STATES.has(t.Status?.State ?? ''));
    // A task whose process ran and ended counts as started: the health gate then reports its exit
    // code and last log lines, as it does for a container that exits.
    if (failed?.Status?.ContainerStatus?.ContainerID && failed.Status.State !== 'rejected') {
      const name = `${service.name}.${failed.Slot ?? 0}`;
      return [{ id: instanceId(service.id, failed.ID), group: service.id, name, target: '' }];
    }
    if (failed) {
      const why = failed.Status?.Err ?? `exit code ${failed.Status?.ContainerStatus?.ExitCode ?? 'unknown'}`;
      throw new TasksDidNotStart(`A task of ${service.name} ${failed.Status?.State}: ${why}`);
    }
    const wanted = tasks.filter((t) => t.DesiredState === 'running');
    const nodes = await nodesById(docker);
    const ready = wanted.flatMap((t) => {
      const target = taskTarget(t, nodes);
      return target
        ? [{ id: instanceId(service.id, t.ID), group: service.id, name: `${service.name}.${t.Slot ?? 0}`, target }]
        : [];
    });
    if (ready.length >= count) return ready.slice(0, count);
    last = `${ready.length} of ${count} tasks running (${wanted.map((t) => t.Status?.State).join(', ') || 'none scheduled'})`;
    if (Date.now() > deadline)
      throw new TasksDidNotStart(`The tasks of ${service.name} did not start in time: ${last}`);
    await Bun.sleep(POLL_MS);
  }
}
