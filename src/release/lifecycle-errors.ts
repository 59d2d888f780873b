/**
 * What a lifecycle operation (start, restart, scale) answers when its new instances cannot go
 * live. The operation is synchronous, so the reason a deployment would record becomes the API's
 * error: the engine out of reach is `docker_unavailable` (503); instances the engine refused to
 * create or start, or that never passed their health check, are a `conflict` (409) with the live
 * release as it is, which keeps running untouched. Anything else passes through unchanged.
 */
import { DeploymentFailure, StartFailed } from '../deployments/failures.ts';
import { AppError, ConflictError, DockerUnavailableError } from '../errors.ts';
import { engineUnreachable } from '../runtime/docker.ts';

/** The API error for `err`, thrown while doing `doing` ("scale", "restart", "start") to `project`. */
export function lifecycleError(doing: string, project: string, err: unknown): unknown {
  if (err instanceof AppError) return err;
  if ((err instanceof StartFailed && err.engineUnreachable) || engineUnreachable(err)) {
    const detail = err instanceof StartFailed ? err.detail : (err as Error).message;
    return new DockerUnavailableError(`Cannot ${doing} "${project}": the Docker engine did not answer (${detail})`);
  }
  if (err instanceof DeploymentFailure) {
    const reason = `${err.message[0]!.toLowerCase()}${err.message.slice(1)}`;
    return new ConflictError(`Cannot ${doing} "${project}": ${reason}; the running instances were left as they were`);
  }
  return err;
}
