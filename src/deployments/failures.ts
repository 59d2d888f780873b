/**
 * Every way a deployment can end short of live, as types with their fields. The message of each
 * is the one-line reason recorded on the deployment and shown in its log, worded here and nowhere
 * else; code that must tell failures apart does so by class, never by message text.
 */

/** How a deployment ends when this failure stops it. */
export type Outcome = 'failed' | 'canceled';

/** A reason a deployment did not go live. */
export abstract class DeploymentFailure extends Error {
  /** The status the deployment ends in. */
  abstract readonly outcome: Outcome;

  /** True when the deployment was canceled rather than failed. */
  get canceled(): boolean {
    return this.outcome === 'canceled';
  }
}

/** A build step as the classic builder numbers it (`Step 3/7`); null before the first step. */
export interface StepRef {
  index: number;
  total: number;
}

const at = (step: StepRef | null) => (step === null ? '' : ` at step ${step.index}/${step.total}`);
const mib = (bytes: number) => String(Number((bytes / 1024 ** 2).toFixed(1)));
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

/** A build that could not start or finish: a refused upload, a missing file, the engine's refusal. */
export class BuildError extends DeploymentFailure {
  readonly outcome: Outcome = 'failed';
  override readonly name: string = 'BuildError';
}

/** A Dockerfile step that failed, with the engine's one-line message. */
export class BuildStepFailed extends BuildError {
  override readonly name = 'BuildStepFailed';
  constructor(
    readonly step: StepRef | null,
    readonly engineMessage: string,
  ) {
    super(
      step === null
        ? `Build failed: ${engineMessage}`
        : `Dockerfile step ${step.index}/${step.total} failed: ${engineMessage}`,
    );
  }
}

/** A build step killed by the build memory limit. */
export class BuildOutOfMemory extends BuildError {
  override readonly name = 'BuildOutOfMemory';
  constructor(
    readonly limitBytes: number,
    readonly step: StepRef | null,
  ) {
    super(`Build ran out of memory (limit ${mib(limitBytes)} MiB)${at(step)}`);
  }
}

/** A build stopped by the build timeout. */
export class BuildTimedOut extends BuildError {
  override readonly name = 'BuildTimedOut';
  constructor(
    readonly timeoutMs: number,
    readonly step: StepRef | null,
  ) {
    super(`Build timed out after ${seconds(timeoutMs)} s${at(step)}`);
  }
}

/** A build stopped because a fork in it failed on the build's process limit (a fork bomb, or a build that needs more). */
export class BuildProcessLimit extends BuildError {
  override readonly name = 'BuildProcessLimit';
  constructor(
    readonly limit: number,
    readonly step: StepRef | null,
  ) {
    super(`Build stopped: it reached the limit of ${limit} processes${at(step)}`);
  }
}

/** A build stopped by the caller's signal. */
export class BuildCanceled extends BuildError {
  override readonly name = 'BuildCanceled';
  override readonly outcome: Outcome = 'canceled';
  constructor(readonly step: StepRef | null) {
    super(`Build canceled${at(step)}`);
  }
}

/** A build whose stream ended without a result or an error (the engine went away). */
export class BuildIncomplete extends BuildError {
  override readonly name = 'BuildIncomplete';
  constructor(readonly step: StepRef | null) {
    super(`Build stopped without a result${at(step)}: the Docker engine closed the connection`);
  }
}

/** A build refused because the host's build isolation (network, firewall, process limits) is not in place. */
export class BuildIsolationUnavailable extends BuildError {
  override readonly name = 'BuildIsolationUnavailable';
  constructor(readonly problem: string) {
    super(`Cannot build: build isolation is not in place (${problem}); run \`slipway prepare-builds\` as root`);
  }
}

/** A built image without the labels Slipway gave it: it cannot be told apart from any other image. */
export class ImageUnlabelled extends BuildError {
  override readonly name = 'ImageUnlabelled';
  constructor(readonly missing: string[]) {
    super(`The built image lacks Slipway's labels (${missing.join(', ')}); it was not released`);
  }
}

/**
 * A Dockerfile that breaks one of the rules every build is held to (see build/dockerfile-check.ts),
 * refused before the engine sees it.
 */
export class DockerfileRefused extends BuildError {
  override readonly name = 'DockerfileRefused';
  constructor(
    readonly path: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${path} refused at line ${line}: ${reason}`);
  }
}

/** A built image carrying Slipway labels that Slipway did not give it (inherited from a base image). */
export class ImageLabelsForged extends BuildError {
  override readonly name = 'ImageLabelsForged';
  constructor(readonly unexpected: string[]) {
    super(`The built image carries Slipway labels it was not given (${unexpected.join(', ')}); it was not released`);
  }
}

/** An instance that could not be created or started. */
export class StartFailed extends DeploymentFailure {
  readonly outcome: Outcome = 'failed';
  override readonly name = 'StartFailed';
  constructor(
    readonly detail: string,
    /** True when the engine could not be reached at all, rather than refusing the container. */
    readonly engineUnreachable = false,
  ) {
    super(`Cannot start the container: ${detail}`);
  }
}

/** Why an instance did not pass the health gate. */
export abstract class Unhealthy extends DeploymentFailure {
  readonly outcome: Outcome = 'failed';
}

/** The instance exited before it turned healthy. */
export class InstanceExited extends Unhealthy {
  override readonly name = 'InstanceExited';
  constructor(readonly exitCode: number) {
    super(`The container exited with code ${exitCode} before it turned healthy`);
  }
}

/** The kernel killed the instance for its memory limit. */
export class InstanceOutOfMemory extends Unhealthy {
  override readonly name = 'InstanceOutOfMemory';
  constructor() {
    super('The container was killed: out of memory');
  }
}

/** The instance never answered the health check in time. */
export class HealthCheckTimedOut extends Unhealthy {
  override readonly name = 'HealthCheckTimedOut';
  constructor(
    readonly path: string,
    readonly timeoutMs: number,
    readonly last: string,
  ) {
    super(
      `The app did not answer GET ${path} with 2xx or 3xx within ${Math.round(timeoutMs / 1000)} s (last: ${last})`,
    );
  }
}

/** The health check was stopped because the deployment was aborted or a sibling instance failed. */
export class HealthCheckStopped extends Unhealthy {
  override readonly name = 'HealthCheckStopped';
  constructor() {
    super('Health check stopped: the deployment was aborted');
  }
}

/** Canceled by a user (API, CLI), before or while it ran. */
export class CanceledByRequest extends DeploymentFailure {
  readonly outcome: Outcome = 'canceled';
  override readonly name = 'CanceledByRequest';
  constructor() {
    super('Canceled by request');
  }
}

/** A queued deployment that a newer one replaced before it ran. */
export class Superseded extends DeploymentFailure {
  readonly outcome: Outcome = 'canceled';
  override readonly name = 'Superseded';
  constructor(readonly byNumber: number) {
    super(`Superseded by deployment #${byNumber}`);
  }
}

/** Slipway stopped (or crashed) while the deployment ran. */
export class Interrupted extends DeploymentFailure {
  readonly outcome: Outcome = 'failed';
  override readonly name = 'Interrupted';
  constructor() {
    super('interrupted: Slipway stopped while the deployment ran');
  }
}

/** A bug: anything thrown that is not a DeploymentFailure. */
export class InternalFailure extends DeploymentFailure {
  readonly outcome: Outcome = 'failed';
  override readonly name = 'InternalFailure';
  constructor(readonly error: unknown) {
    super(`Internal error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `err` as a DeploymentFailure: itself, or an InternalFailure wrapping it. */
export function asFailure(err: unknown): DeploymentFailure {
  return err instanceof DeploymentFailure ? err : new InternalFailure(err);
}

/** A prebuilt image that could not be pulled: refused credentials, a missing tag, an unreachable registry. */
export class ImagePullFailed extends BuildError {
  override readonly name = 'ImagePullFailed';
  constructor(
    readonly ref: string,
    readonly detail: string,
  ) {
    super(`Cannot pull ${ref}: ${detail}`);
  }
}

/** A pull stopped because the image is larger than SLIPWAY_PULL_MAX_BYTES. */
export class ImagePullTooLarge extends BuildError {
  override readonly name = 'ImagePullTooLarge';
  constructor(
    readonly ref: string,
    readonly maxBytes: number,
  ) {
    super(`Cannot pull ${ref}: the image is larger than the ${mib(maxBytes)} MiB limit (SLIPWAY_PULL_MAX_BYTES)`);
  }
}

/** A pull that took longer than SLIPWAY_PULL_TIMEOUT. */
export class ImagePullTimedOut extends BuildError {
  override readonly name = 'ImagePullTimedOut';
  constructor(
    readonly ref: string,
    readonly timeoutMs: number,
  ) {
    super(`Cannot pull ${ref}: it took longer than ${seconds(timeoutMs)} s (SLIPWAY_PULL_TIMEOUT)`);
  }
}

/** A pulled image Slipway will not release, with the reason (e.g. ONBUILD triggers). */
export class ImageRefused extends BuildError {
  override readonly name = 'ImageRefused';
  constructor(
    readonly ref: string,
    readonly reason: string,
  ) {
    super(`Cannot deploy ${ref}: ${reason}`);
  }
}
