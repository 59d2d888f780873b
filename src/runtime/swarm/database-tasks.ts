/** The tasks of a database service and their containers on this engine. */
import type Docker from 'dockerode';

const POLL_MS = 250;

/** A running task's container on this engine. */
export interface RunningTask {
  containerId: string;
  imageId: string;
  labels: Record<string, string>;
}

interface TaskInfo {
  ID: string;
  DesiredState?: string;
  Status?: { State?: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

/** The service's running task, if its container is on this engine and runs. */
export async function runningTask(docker: Docker, serviceId: string): Promise<RunningTask | null> {
  const tasks = (await docker.listTasks({
    filters: { service: [serviceId], 'desired-state': ['running'] },
  })) as TaskInfo[];
  for (const task of tasks) {
    const containerId = task.Status?.ContainerStatus?.ContainerID;
    if (task.Status?.State !== 'running' || !containerId) continue;
    const container = await docker
      .getContainer(containerId)
      .inspect()
      .catch(() => null);
    if (container?.State.Running)
      return { containerId, imageId: container.Image, labels: container.Config.Labels ?? {} };
  }
  return null;
}

/**
 * Waits for the service's first task to run and returns its container. A task that fails or is
 * rejected (a bad image, a constraint no node meets) fails this with the task's own error.
 */
export async function waitForTaskContainer(docker: Docker, serviceId: string, signal: AbortSignal): Promise<string> {
  for (;;) {
    signal.throwIfAborted();
    const tasks = (await docker.listTasks({ filters: { service: [serviceId] } })) as TaskInfo[];
    const failed = tasks.find((t) => ['failed', 'rejected', 'orphaned'].includes(t.Status?.State ?? ''));
    if (failed) throw new Error(`its task ${failed.Status?.State}: ${failed.Status?.Err ?? 'no reason given'}`);
    const running = await runningTask(docker, serviceId);
    if (running) return running.containerId;
    await Bun.sleep(POLL_MS);
  }
}

/** Waits until no container of the service is left on this engine. */
export async function waitUntilGone(docker: Docker, serviceId: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.swarm.service.id=${serviceId}`] },
    });
    if (left.length === 0) return;
    signal.throwIfAborted();
    await Bun.sleep(POLL_MS);
  }
}
