/**
 * A release image build as Slipway runs it: the stored source becomes the build context with the
 * labels appended to the Dockerfile as one LABEL step, the engine builds it, and the result is
 * checked to carry every label. When the appended step could not take (a symlinked or oversized
 * Dockerfile the context passes through as it is), a one-step `FROM <image>` + `LABEL` build stamps
 * them on; an image that still lacks them is refused.
 */
import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { buildImage, type BuildOptions, type BuiltImage } from './builder.ts';
import { buildContext, labelInstruction } from './context.ts';
import type { BuildPlan } from './plan.ts';
import { ImageUnlabelled } from '../deployments/failures.ts';

/** How to build one labelled image from a stored source. */
export interface LabelledBuild extends Omit<BuildOptions, 'dockerfilePath'> {
  /** The stored source (tar.gz). */
  source: string;
  plan: BuildPlan;
  labels: Record<string, string>;
}

/** Builds, then makes sure the image carries `labels`; throws ImageUnlabelled when it cannot. */
export async function buildLabelledImage(docker: Docker, b: LabelledBuild): Promise<BuiltImage> {
  const { source, plan, labels, ...opts } = b;
  const built = await buildImage(docker, buildContext(source, plan, labels), {
    ...opts,
    dockerfilePath: plan.dockerfilePath,
  });
  if ((await missingLabels(docker, built.imageId, labels)).length === 0) return built;

  opts.onLine('Adding Slipway labels in a separate step (the Dockerfile could not take them)');
  const stamped = await buildImage(docker, stampContext(opts.tag, labels), { ...opts, dockerfilePath: 'Dockerfile' });
  const missing = await missingLabels(docker, stamped.imageId, labels);
  if (missing.length > 0) throw new ImageUnlabelled(missing);
  return {
    imageId: stamped.imageId,
    exposedPort: built.exposedPort,
    durationMs: built.durationMs + stamped.durationMs,
  };
}

/** The labels of `labels` that the image lacks or carries with another value. */
async function missingLabels(docker: Docker, imageId: string, labels: Record<string, string>): Promise<string[]> {
  const actual = (await docker.getImage(imageId).inspect()).Config?.Labels ?? {};
  return Object.entries(labels)
    .filter(([k, v]) => actual[k] !== v)
    .map(([k]) => k);
}

/** A context of one Dockerfile: `FROM <tag>` and the LABEL instruction. */
function stampContext(tag: string, labels: Record<string, string>): Readable {
  const out = pack();
  out.entry({ name: 'Dockerfile', mode: 0o644 }, `FROM ${tag}${labelInstruction(labels)}`);
  out.finalize();
  return Readable.from(out);
}
