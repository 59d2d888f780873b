/**
 * Where a deployment's time went, read from its own log (a benchmark helper, never run by tests):
 * every log line is stored with its time (milliseconds), so the agent's SQLite database tells when
 * the build was handed to the engine, when each builder step began, when the container was started
 * and when it passed its health check. Reads the database of an agent the benchmark started,
 * read-only, while the agent runs.
 */
import { Database } from 'bun:sqlite';
import { join } from 'node:path';

/** Milestones: the first log line matching each pattern. */
const MILESTONES = {
  queued: /^Deployment #\d+ queued/,
  sandboxed: /^Build steps run on /,
  firstStep: /^Step 1\//,
  built: /^Successfully tagged /,
  starting: /^Starting \d+ instance/,
  passed: /^All \d+ instances? passed /,
  switched: /^Traffic switched /,
} as const;

type Milestone = keyof typeof MILESTONES;

/**
 * The phases of deployment `id` in ms, measured from `t0` (a wall-clock time, ms since the epoch:
 * `performance.timeOrigin + performance.now()` when the upload began). `label step` is the time
 * from the LABEL step's line to the next step's, 0 when the engine took it from its cache.
 */
export function deploymentPhases(dataDir: string, id: string, t0: number): Record<string, number> {
  const db = new Database(join(dataDir, 'slipway.db'), { readonly: true });
  let rows: { at: string; line: string }[];
  try {
    rows = db.query('SELECT at, line FROM deployment_logs WHERE deployment_id = ? ORDER BY seq').all(id) as typeof rows;
  } finally {
    db.close();
  }
  const at = (m: Milestone) => {
    const row = rows.find((r) => MILESTONES[m].test(r.line));
    if (!row) throw new Error(`deployment ${id}: no log line matches ${MILESTONES[m]}`);
    return Date.parse(row.at) - t0;
  };
  return {
    'upload → queued': at('queued'),
    'queued → build sent': at('sandboxed') - at('queued'),
    'engine → step 1': at('firstStep') - at('sandboxed'),
    'steps → tagged': at('built') - at('firstStep'),
    'label step': labelStepMs(rows),
    'tagged → start': at('starting') - at('built'),
    'start → healthy': at('passed') - at('starting'),
    'healthy → switched': at('switched') - at('passed'),
  };
}

/** How long the uncached LABEL step took: from its step line to the next step line. */
function labelStepMs(rows: { at: string; line: string }[]): number {
  const step = rows.findIndex((r) => /^Step \d+\/\d+ : LABEL /.test(r.line));
  if (step < 0) return 0;
  if (rows[step + 1]?.line.includes('Using cache')) return 0;
  const next = rows.findIndex((r, i) => i > step && /^(Step \d+\/|Successfully built )/.test(r.line));
  return next < 0 ? 0 : Date.parse(rows[next]!.at) - Date.parse(rows[step]!.at);
}
