/**
 * A release image build as Slipway runs it: the stored source becomes the build context with the
 * labels appended to the Dockerfile as one LABEL step, the engine builds it, and the result is
 * checked to carry every label. When the appended step could not take (a symlinked or oversized
 * Dockerfile the context passes through as it is), a one-step `FROM <image>` + `LABEL` build stamps
 * them on; an image that still lacks them is refused. Before any of it, the images the Dockerfile
 * uses are checked against the engine's store (base-images.ts); after it, the image must carry no
 * Slipway label it was not given (a base image's labels are inherited).
 */
import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { tarStream } from '../lazy-libraries.ts';
import { buildImage, type BuildOptions, type BuiltImage } from './builder.ts';
import { bufferedContext, buildContext, labelInstruction } from './context.ts';
import type { BuildPlan } from './plan.ts';
import { ImageLabelsForged, ImageUnlabelled } from '../deployments/failures.ts';
import { LABEL_KEYS } from '../runtime/labels.ts';
import { checkImages } from './base-images.ts';
import { existingContainers } from './leftovers.ts';

/** How to build one labelled image from a stored source. */
export interface LabelledBuild extends Omit<BuildOptions, 'dockerfilePath'> {
  /** The stored source (tar.gz). */
  source: string;
  plan: BuildPlan;
  /** What the image must carry: its last instruction (a generated one's, just before the source). */
  labels: Record<string, string>;
  /** After each FROM (a generated Dockerfile's last stage excepted); `labels` when left out. */
  stageLabels?: Record<string, string>;
}

/**
 * Checks the images the plan uses, builds, then makes sure the image carries `labels` and no other
 * label Slipway reads; throws DockerfileRefused, ImageUnlabelled or ImageLabelsForged.
 */
export async function buildLabelledImage(docker: Docker, b: LabelledBuild): Promise<BuiltImage> {
  const { source, plan, labels, stageLabels, ...opts } = b;
  // A small source's context is made in memory while the engine answers the checks.
  const [, before, buffered] = await Promise.all([
    checkImages(docker, plan.dockerfilePath, plan.checked),
    existingContainers(docker),
    bufferedContext(source, plan, labels, stageLabels),
  ]);
  const context = buffered ?? buildContext(source, plan, labels, stageLabels);
  const built = await buildImage(docker, context, {
    ...opts,
    dockerfilePath: plan.dockerfilePath,
    before,
  });
  const first = labelCheck(built.labels, labels);
  if (first.forged.length > 0) throw new ImageLabelsForged(first.forged);
  if (first.missing.length === 0) return built;

  opts.onLine('Adding Slipway labels in a separate step (the Dockerfile could not take them)');
  const stamped = await buildImage(docker, stampContext(opts.tag, labels), { ...opts, dockerfilePath: 'Dockerfile' });
  const { missing } = labelCheck(stamped.labels, labels);
  if (missing.length > 0) throw new ImageUnlabelled(missing);
  return {
    imageId: stamped.imageId,
    exposedPort: built.exposedPort,
    durationMs: built.durationMs + stamped.durationMs,
    labels: stamped.labels,
    stageImageIds: built.stageImageIds,
  };
}

/**
 * The labels of `labels` that the image lacks or carries with another value, and the labels
 * Slipway reads that the image carries without having been given them.
 */
function labelCheck(actual: Record<string, string>, labels: Record<string, string>) {
  return {
    missing: Object.entries(labels)
      .filter(([k, v]) => actual[k] !== v)
      .map(([k]) => k),
    forged: Object.keys(actual).filter((k) => LABEL_KEYS.has(k) && !(k in labels)),
  };
}

/** A context of one Dockerfile: `FROM <tag>` and the LABEL instruction. */
function stampContext(tag: string, labels: Record<string, string>): Readable {
  const out = tarStream().pack();
  out.entry({ name: 'Dockerfile', mode: 0o644 }, `FROM ${tag}${labelInstruction(labels)}`);
  out.finalize();
  return Readable.from(out);
}

/**
 * Stamps `labels` onto an image that was not built here (a pulled one, named by its id) with a
 * one-step `FROM` + `LABEL` build tagged `opts.tag`; the result must carry them and no other label
 * Slipway reads. Throws ImageLabelsForged or ImageUnlabelled.
 */
export async function stampImage(
  docker: Docker,
  from: string,
  labels: Record<string, string>,
  opts: Omit<BuildOptions, 'dockerfilePath'>,
): Promise<BuiltImage> {
  const stamped = await buildImage(docker, stampContext(from, labels), { ...opts, dockerfilePath: 'Dockerfile' });
  const { missing, forged } = labelCheck(stamped.labels, labels);
  if (forged.length > 0) throw new ImageLabelsForged(forged);
  if (missing.length > 0) throw new ImageUnlabelled(missing);
  return stamped;
}
