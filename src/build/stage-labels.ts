/**
 * Labels on every stage of a build, so that what a build leaves behind is Slipway's to collect.
 * The classic builder keeps the last image of each stage but the final one untagged ("dangling"):
 * a multi-stage build leaves its build stages, and a failed build its last good step. They are the
 * build cache (a redeploy takes `go mod download` from there), and with the project's labels on
 * them the build cache collector (build-cache.ts) can keep each project's latest ones and remove
 * the rest, touching nothing that is not Slipway's.
 *
 * The LABEL instruction goes right after each FROM: it is the same for every build of a project,
 * so from the second build on it comes from the cache and costs nothing. A project's Dockerfile
 * still gets the labels at its end too (context.ts), where no LABEL of its own can override them;
 * its step numbers in the build log count the added LABEL lines.
 */
import { dockerfileAst } from '../lazy-libraries.ts';

/**
 * `dockerfile` with `instruction` (one LABEL line) after every FROM, the last one too unless
 * `exceptLast` (a generated Dockerfile, whose last stage takes the labels just before its source).
 * A continued FROM is kept whole: the LABEL goes after the instruction's last line as the parser
 * reads it (over blank lines, as the engine does).
 */
export function withStageLabels(dockerfile: string, instruction: string, exceptLast = false): string {
  if (!instruction) return dockerfile;
  const parsed = dockerfileAst().DockerfileParser.parse(dockerfile.replace(/^\uFEFF/, ''));
  const froms = parsed
    .getInstructions()
    .filter((i) => i.getKeyword() === 'FROM')
    .map((i) => i.getRange().end.line);
  const after = new Set(exceptLast ? froms.slice(0, -1) : froms);
  if (after.size === 0) return dockerfile;
  return dockerfile
    .split('\n')
    .flatMap((line, n) => (after.has(n) ? [line, instruction] : [line]))
    .join('\n');
}
