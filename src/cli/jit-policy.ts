/**
 * JavaScriptCore's tier-up policy for `serve`, a process that runs for weeks. By default JSC hands a
 * function to its optimising compiler (DFG) after roughly a hundred calls, and a start calls many
 * functions that often once (building the API's ~1,500 schema objects and ~80 routes, preparing
 * statements): about 30 of them were compiled during every start, and the first compile pages in
 * the compiler's own code, which stays resident: 2.5–2.7 MiB of an agent that then idles
 * (measured on the compiled binary, idle 35 s, three processes each, side by side). With the
 * threshold 100× higher nothing is compiled during the start, its first requests or idling (the
 * busiest, TypeBox's IsObject, runs some 2,500 times while the routes' schemas are made: 20× was
 * not enough once the start answered a few requests), while code under load (a request handler
 * called thousands of times a second) still reaches the optimising compiler within a second.
 *
 * JSC reads its options from BUN_JSC_* variables once, when the process starts, so `serve`
 * executes itself again, same PID and arguments, with the variable set. A value the user set is
 * kept as it is (and no second execution happens).
 */

/** The variables, as JSC reads them. */
export const SERVE_JIT_ENV: Readonly<Record<string, string>> = { BUN_JSC_thresholdForOptimizeAfterWarmUp: '100000' };

/** What a re-execution needs of the process; a test passes its own. */
export interface ProcessSelf {
  execPath: string;
  /** The entry script: a path under /$bunfs/ in the compiled binary. */
  main: string;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  execve(file: string, args: string[], env: Record<string, string | undefined>): never;
}

/**
 * Executes the compiled binary again with SERVE_JIT_ENV, unless each of its variables is set
 * already; returns (without re-executing) when they are, when running from source, or when the
 * execution fails (the binary gone), so that `serve` then starts with JSC's defaults.
 */
export function applyServeJitPolicy(self: ProcessSelf): void {
  const missing = Object.entries(SERVE_JIT_ENV).filter(([name]) => self.env[name] === undefined);
  if (missing.length === 0 || !self.main.startsWith('/$bunfs/')) return;
  try {
    self.execve(self.execPath, [self.execPath, ...self.argv.slice(2)], {
      ...self.env,
      ...Object.fromEntries(missing),
    });
  } catch {
    // Not replaced: go on with the defaults.
  }
}
