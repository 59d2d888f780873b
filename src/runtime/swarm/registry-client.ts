/**
 * The few calls of the registry HTTP API (Distribution v2) the cluster registry needs: a tag's
 * digest, a repository's tags, and deleting a manifest by digest. Repository names and digests
 * are validated by the caller (registry.ts) before they reach a URL.
 */
import type { RegistryAddress } from './registry-address.ts';

/** Credentials for a registry that asks for them (basic auth). */
export interface RegistryAuth {
  username: string;
  password: string;
}

/** The manifest types the engine pushes and pulls: a HEAD without them answers another digest. */
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

export class RegistryHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function registryClient(address: RegistryAddress, auth?: RegistryAuth) {
  // With no scheme given: HTTPS, and HTTP once HTTPS could not connect (remembered).
  let scheme: 'https' | 'http' = address.scheme ?? 'https';
  const headers = (extra: Record<string, string> = {}): Record<string, string> =>
    auth
      ? { ...extra, authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
      : extra;

  async function call(method: string, path: string, accept?: string): Promise<Response> {
    const init = { method, headers: headers(accept ? { accept } : {}), signal: AbortSignal.timeout(30_000) };
    try {
      return await fetch(`${scheme}://${address.host}${path}`, init);
    } catch (error) {
      if (address.scheme !== null || scheme === 'http') throw error;
      scheme = 'http';
      return fetch(`http://${address.host}${path}`, init);
    }
  }

  return {
    /** The digest `tag` points to in `repository`, or null when the tag is not there. */
    async tagDigest(repository: string, tag: string): Promise<string | null> {
      const res = await call('HEAD', `/v2/${repository}/manifests/${encodeURIComponent(tag)}`, MANIFEST_TYPES);
      if (res.status === 404) return null;
      if (!res.ok) throw new RegistryHttpError(res.status, `HEAD ${repository}:${tag} answered ${res.status}`);
      return res.headers.get('docker-content-digest');
    },

    /** The tags of `repository`; none when the repository does not exist. */
    async tags(repository: string): Promise<string[]> {
      const res = await call('GET', `/v2/${repository}/tags/list`);
      if (res.status === 404) return [];
      if (!res.ok) throw new RegistryHttpError(res.status, `listing the tags of ${repository} answered ${res.status}`);
      const body = (await res.json()) as { tags?: string[] | null };
      return body.tags ?? [];
    },

    /** Whether a manifest exists in `repository` under `digest`. */
    async hasManifest(repository: string, digest: string): Promise<boolean> {
      const res = await call('HEAD', `/v2/${repository}/manifests/${digest}`, MANIFEST_TYPES);
      if (res.status === 404) return false;
      if (!res.ok) throw new RegistryHttpError(res.status, `HEAD ${repository}@${digest} answered ${res.status}`);
      return true;
    },

    /** Deletes the manifest (and so every tag on it) from `repository`: false when it was not there. */
    async deleteManifest(repository: string, digest: string): Promise<boolean> {
      const res = await call('DELETE', `/v2/${repository}/manifests/${digest}`);
      if (res.status === 404) return false;
      if (res.status === 405) {
        throw new RegistryHttpError(
          405,
          `the registry refuses deletes; set storage.delete.enabled: true in its config`,
        );
      }
      if (!res.ok) throw new RegistryHttpError(res.status, `deleting ${repository}@${digest} answered ${res.status}`);
      return true;
    },
  };
}

export type RegistryClient = ReturnType<typeof registryClient>;
