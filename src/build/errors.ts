/**
 * The one error type of src/build and the wording of its messages. A message is a single line
 * meant for the deployment's status and log, so it names the cause (the failing step, the limit
 * that was hit) rather than the engine's internals.
 */

/** A failed build with a one-line reason such as `Dockerfile step 3/7 failed: The command '/bin/sh -c npm ci' returned a non-zero code: 1`, `Build ran out of memory (limit 64 MiB) at step 2/4`, `Build timed out after 900 s`; `canceled` true when the signal aborted it. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly canceled = false,
  ) {
    super(message);
    this.name = 'BuildError';
  }
}

/** A build step as the classic builder numbers it (`Step 3/7`); null before the first step. */
export interface StepRef {
  index: number;
  total: number;
}

// A RUN whose process was SIGKILLed exits 128 + 9. Under a memory limit that is the OOM killer:
// the builder's own cancellation never reaches this path (we report it as a cancel instead).
const KILLED = /returned a non-zero code: 137$/;

/** The error for the engine's `{error}` message, `step` being the step that was running. */
export function stepFailed(engineMessage: string, step: StepRef | null, memoryBytes: number): BuildError {
  const reason = oneLine(engineMessage);
  if (KILLED.test(reason)) {
    return new BuildError(`Build ran out of memory (limit ${mib(memoryBytes)} MiB)${at(step)}`);
  }
  if (step === null) return new BuildError(`Build failed: ${reason}`);
  return new BuildError(`Dockerfile step ${step.index}/${step.total} failed: ${reason}`);
}

/** The error for a build stopped by the timeout. */
export function timedOut(timeoutMs: number, step: StepRef | null): BuildError {
  const seconds = Number((timeoutMs / 1000).toFixed(1));
  return new BuildError(`Build timed out after ${seconds} s${at(step)}`);
}

/** The error for a build stopped by the caller's signal. */
export function canceled(step: StepRef | null): BuildError {
  return new BuildError(`Build canceled${at(step)}`, true);
}

/** The error for a stream that ended without a result or an error (the engine went away). */
export function incomplete(step: StepRef | null): BuildError {
  return new BuildError(`Build stopped without a result${at(step)}: the Docker engine closed the connection`);
}

function at(step: StepRef | null): string {
  return step === null ? '' : ` at step ${step.index}/${step.total}`;
}

function mib(bytes: number): string {
  return String(Number((bytes / 1024 ** 2).toFixed(1)));
}

// Engine messages can span lines (a Go error wrapping a command's output); the status keeps one.
function oneLine(message: string): string {
  return (
    message
      .trim()
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ') || 'unknown error'
  );
}
