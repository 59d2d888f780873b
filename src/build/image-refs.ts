/**
 * Image references as the engine resolves them for FROM and COPY --from: a name
 * (`[registry/]path[:tag][@digest]`) looked up in the local store and else pulled, or failing a
 * name match, an image ID, whose shortest unique prefix is enough (`FROM f7ea` builds on the local
 * image sha256:f7ea…, whatever project's it is).
 */

/** The repository Slipway's release images are tagged in (see imageTag in jobs/pipeline.ts). */
export const RELEASE_REPOSITORY = 'slipway';

/** A reference split into its familiar name (as `docker images` shows it), tag and digest. */
export interface ParsedReference {
  name: string;
  tag: string | null;
  digest: string | null;
}

/** Splits `ref`; the name is made familiar: `docker.io/library/node` is `node`. */
export function parseReference(ref: string): ParsedReference {
  const at = ref.indexOf('@');
  const digest = at === -1 ? null : ref.slice(at + 1);
  let name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : null;
  if (tag !== null) name = name.slice(0, colon);
  name = name.replace(/^(?:docker\.io|index\.docker\.io)\//, '');
  if (/^library\/[^/]+$/.test(name)) name = name.slice('library/'.length);
  return { name, tag, digest };
}

/**
 * True for a reference to one of Slipway's release images (`slipway/<project>:…`), by any spelling,
 * in any registry: on Swarm they are also in the cluster registry (`10.77.0.1:5000/slipway/…`),
 * which the manager's engine trusts and would pull from for a FROM.
 */
export function isReleaseImage(ref: string): boolean {
  const name = parseReference(ref.toLowerCase()).name;
  const [first, ...rest] = name.split('/');
  const withoutHost = rest.length > 0 && /[.:]|^localhost$/.test(first ?? '') ? rest.join('/') : name;
  return withoutHost.startsWith(`${RELEASE_REPOSITORY}/`);
}

/** True for a reference that can only be an image ID: `sha256:…` or 64 hex digits. */
export function isImageId(ref: string): boolean {
  return /^sha256:/i.test(ref) || /^[0-9a-f]{64}$/i.test(ref);
}

/**
 * True when an image found for `ref` was found by that name: the tag (`latest` when none is given)
 * or the digest is one of the image's. False means the engine matched `ref` as an ID prefix.
 */
export function foundByName(ref: string, repoTags: string[], repoDigests: string[]): boolean {
  const { name, tag, digest } = parseReference(ref);
  if (digest !== null) return repoDigests.some((d) => d === `${name}@${digest}`);
  return repoTags.includes(`${name}:${tag ?? 'latest'}`);
}
