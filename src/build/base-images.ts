/**
 * The images a Dockerfile uses, checked against the engine's local store just before the build:
 * the engine resolves a reference by name first and, failing that, as an image ID prefix, so
 * `FROM 3f5e` can reach any local image, including the unlabelled intermediate step images of
 * another project's build, which hold its source. A reference is allowed when the engine does
 * not have it (it will be pulled from a registry) or has it under that very name, and the image
 * carries none of the labels Slipway reads (it is neither one of Slipway's images nor posing as one).
 * A base image's ONBUILD triggers run inside this build, so they are held to the Dockerfile rules.
 */
import type Docker from 'dockerode';
import { DockerfileRefused } from '../deployments/failures.ts';
import { LABEL_KEYS } from '../runtime/labels.ts';
import { checkDockerfile, type CheckedDockerfile, type ImageUse } from './dockerfile-check.ts';
import { foundByName } from './image-refs.ts';

/** Throws DockerfileRefused for the first image use that breaks a rule. */
export async function checkImages(docker: Docker, path: string, checked: CheckedDockerfile): Promise<void> {
  for (const use of checked.images) {
    const image = await allowedImage(docker, path, use);
    if (image === null || !checked.bases.includes(use)) continue;
    // The triggers of a FROM image run as if they followed the FROM line; they may copy from images too.
    for (const copied of triggerImages(path, use, image.Config?.OnBuild ?? []))
      await allowedImage(docker, path, copied);
  }
}

/** The local image `use` names, null when the engine does not have it; throws when it breaks a rule. */
async function allowedImage(docker: Docker, path: string, use: ImageUse): Promise<Docker.ImageInspectInfo | null> {
  const image = await localImage(docker, use.ref);
  if (image === null) return null;
  const refuse = (reason: string) => new DockerfileRefused(path, use.line, `${use.how} ${use.ref} ${reason}`);
  if (!foundByName(use.ref, image.RepoTags ?? [], image.RepoDigests ?? [])) {
    throw refuse('matches a local image by its ID; name images by repository and tag');
  }
  const labels = Object.keys(image.Config?.Labels ?? {}).filter((k) => LABEL_KEYS.has(k));
  if (labels.length > 0)
    throw refuse(`is an image with Slipway's labels (${labels.join(', ')}); builds may not use it`);
  return image;
}

/** The images the ONBUILD triggers of `base` copy from; throws when a trigger breaks a rule. */
function triggerImages(path: string, base: ImageUse, triggers: string[]): ImageUse[] {
  const out: ImageUse[] = [];
  for (const trigger of triggers) {
    let checked: CheckedDockerfile;
    try {
      checked = checkDockerfile(`FROM scratch\n${trigger}\n`, path);
    } catch (err) {
      if (!(err instanceof DockerfileRefused)) throw err;
      throw new DockerfileRefused(
        path,
        base.line,
        `FROM ${base.ref} has an ONBUILD trigger that breaks a rule: ${err.reason}`,
      );
    }
    out.push(...checked.images.map((u) => ({ ...u, line: base.line, how: `FROM ${base.ref}: ONBUILD ${u.how}` })));
  }
  return out;
}

async function localImage(docker: Docker, ref: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (err) {
    // 404: not here, the engine will pull it. 400: not a valid reference, the engine will refuse it.
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 || status === 400) return null;
    throw err;
  }
}
