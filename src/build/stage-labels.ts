/**
 * Labels on every stage of a build, so that what a build leaves behind is Slipway's to collect.
 * The classic builder keeps the last image of each stage but the final one untagged ("dangling"):
 * a multi-stage build leaves its build stages, and a failed build its last good step. They are the
 * build cache (a redeploy takes `go mod download` from there), and with the project's labels on
 * them the build cache collector (build-cache.ts) can keep each project's latest ones and remove
 * the rest, touching nothing that is not Slipway's.
 *
 * The LABEL instruction goes right after the FROM of each stage but the last (which has the labels
 * already): it is the same for every build of a project, so from the second build on it comes from
 * the cache and costs nothing. A failed build's last good step in the last stage stays unlabelled,
 * and so uncollected, unless it follows the labels (a generated Dockerfile's source steps do).
 */
import { dockerfileAst } from '../lazy-libraries.ts';

/**
 * `dockerfile` with `instruction` (one LABEL line) after every FROM but the last: the last stage
 * takes the labels at its end (a project's Dockerfile) or before its source (a generated one),
 * and a single-stage Dockerfile keeps its step numbers. A continued FROM is kept whole: the LABEL
 * goes after the instruction's last line as the parser reads it (over blank lines, as the engine).
 */
export function withStageLabels(dockerfile: string, instruction: string): string {
  if (!instruction) return dockerfile;
  const parsed = dockerfileAst().DockerfileParser.parse(dockerfile.replace(/^\uFEFF/, ''));
  const lines = dockerfile.split('\n');
  const froms = parsed
    .getInstructions()
    .filter((i) => i.getKeyword() === 'FROM')
    .map((i) => i.getRange().end.line)
    .slice(0, -1);
  const after = new Set(froms);
  if (after.size === 0) return dockerfile;
  return lines.flatMap((line, n) => (after.has(n) ? [line, instruction] : [line])).join('\n');
}
