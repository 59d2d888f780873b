/**
 * How a command ends when it does not succeed. Each error carries its exit code; main.ts prints
 * the message (and the indented details) on stderr and exits with that code.
 */

/** Exit codes of every command, documented in `slipway help` and the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const;

/** An error that ends a command with `exitCode`, a message for people and optional detail lines. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A mistake in how a command was called (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, EXIT.usage, details);
    this.name = 'UsageError';
  }
}

/** An operation that ran and failed, such as a deployment that did not go live (exit code 1). */
export class FailedError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, EXIT.failed, details);
    this.name = 'FailedError';
  }
}

/** The agent cannot be reached, or no credentials are known for it (exit code 3). */
export class UnreachableError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, EXIT.unreachable, details);
    this.name = 'UnreachableError';
  }
}

/** Ctrl-C, or a prompt refused (exit code 130, as a shell reports SIGINT). */
export class InterruptedError extends CliError {
  constructor(message: string, details: string[] = []) {
    super(message, EXIT.interrupted, details);
    this.name = 'InterruptedError';
  }
}

/** Ends with a command's own exit code and nothing to print (`slipway exec`). */
export class ExitCode extends CliError {
  constructor(code: number) {
    super('', code);
    this.name = 'ExitCode';
  }
}

/** One entry of an API validation error. */
export interface ApiIssue {
  path: string;
  message: string;
}

/** An error envelope from the API: 401 and 403 exit with 3 (not authorised), everything else with 1. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly issues: ApiIssue[] = [],
  ) {
    const details = issues.map((i) => `${i.path || '/'}: ${i.message}`);
    if (status === 401) details.push('Log in again with `slipway login <url>`, or check SLIPWAY_TOKEN');
    if (requestId) details.push(`request id: ${requestId}`);
    super(message, status === 401 || status === 403 ? EXIT.unreachable : EXIT.failed, details);
    this.name = 'ApiError';
  }
}
