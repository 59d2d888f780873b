/**
 * Turns the engine's error message for a failed step into a typed failure (the wording of each
 * lives in deployments/failures.ts).
 */
import { type BuildError, BuildOutOfMemory, BuildStepFailed, type StepRef } from '../deployments/failures.ts';

// A RUN whose process was SIGKILLed exits 128 + 9. Under a memory limit that is the OOM killer:
// the builder's own cancellation never reaches this path (we report it as a cancel instead).
const KILLED = /returned a non-zero code: 137$/;

/** The failure for the engine's `{error}` message, `step` being the step that was running. */
export function stepFailed(engineMessage: string, step: StepRef | null, memoryBytes: number): BuildError {
  const reason = oneLine(engineMessage);
  if (KILLED.test(reason)) return new BuildOutOfMemory(memoryBytes, step);
  return new BuildStepFailed(step, reason);
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
