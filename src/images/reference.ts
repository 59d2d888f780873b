/**
 * References to prebuilt images as a tenant sends them (`registry.example.com/team/app:1.4`),
 * checked against the grammar the engine uses (distribution/reference) and against what a tenant
 * must not name: Slipway's own release images, bare image IDs, and registries on loopback or
 * private addresses that no admin registered.
 */
import { isIP } from 'node:net';
import { RELEASE_REPOSITORY } from '../build/image-refs.ts';

/** Docker Hub, where a reference without a registry host points. */
export const DOCKER_HUB = 'docker.io';

const MAX_LENGTH = 255;
const HOST_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${HOST_LABEL}(?:\\.${HOST_LABEL})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A checked reference, split and with its registry made explicit. */
export interface ImageReference {
  /** The registry host (and port) pulls go to: `docker.io` when the reference names none. */
  host: string;
  /** The repository path within the registry, e.g. `team/app` (`library/nginx` on Docker Hub). */
  path: string;
  /** The tag; `latest` when the reference has neither tag nor digest. */
  tag: string | null;
  digest: string | null;
  /** The reference as the engine pulls it: `host/path` plus `:tag` or `@digest`. */
  canonical: string;
}

/** Why a reference was refused, worded for the `image` field of the request. */
export class InvalidReference extends Error {
  override readonly name = 'InvalidReference';
}

/** Parses `ref`; throws InvalidReference with the reason when it is malformed or refused. */
export function parseImageReference(ref: string): ImageReference {
  if (ref.length === 0 || ref.length > MAX_LENGTH)
    throw new InvalidReference(`must be 1 to ${MAX_LENGTH} characters long`);
  if (/^(sha256:)?[0-9a-f]{12,64}$/i.test(ref))
    throw new InvalidReference('is an image ID; name an image in a registry, e.g. registry.example.com/team/app:1.4');
  const at = ref.indexOf('@');
  const digest = at === -1 ? null : ref.slice(at + 1);
  if (digest !== null && !DIGEST.test(digest))
    throw new InvalidReference('has a malformed digest: expected sha256:<64 hex digits>');
  let name = at === -1 ? ref : ref.slice(0, at);
  const colon = name.lastIndexOf(':');
  let tag: string | null = null;
  if (colon > name.lastIndexOf('/')) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
    if (!TAG.test(tag)) throw new InvalidReference(`has a malformed tag "${tag}"`);
  }
  const parts = name.split('/');
  const first = parts[0]!;
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasHost && !HOST.test(first)) throw new InvalidReference(`has a malformed registry host "${first}"`);
  const host = hasHost ? hubAlias(first.toLowerCase()) : DOCKER_HUB;
  const pathParts = hasHost ? parts.slice(1) : parts;
  for (const part of pathParts) {
    if (!PATH_COMPONENT.test(part))
      throw new InvalidReference(
        `has a malformed repository name "${pathParts.join('/')}" (lowercase letters, digits, . _ -)`,
      );
  }
  let path = pathParts.join('/');
  if (host === DOCKER_HUB && pathParts.length === 1) path = `library/${path}`;
  // In any registry: on Swarm, release images are in the cluster registry too.
  if (pathParts[0] === RELEASE_REPOSITORY)
    throw new InvalidReference(`names one of Slipway's own release images (${RELEASE_REPOSITORY}/…)`);
  if (tag === null && digest === null) tag = 'latest';
  const canonical = `${host}/${path}${digest ? `@${digest}` : `:${tag}`}`;
  return { host, path, tag, digest, canonical };
}

/**
 * True for a registry host the engine must not be sent to unless an admin registered it:
 * `localhost`, and IP literals on loopback, private, link-local, shared or unspecified ranges.
 * Host names are not resolved here (the engine resolves them itself); see the README.
 */
export function isPrivateHost(host: string): boolean {
  const name = host
    .replace(/:[0-9]+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  const family = isIP(name);
  if (family === 4) return privateV4(name);
  if (family === 6) return privateV6(name);
  return false;
}

function privateV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224
  );
}

function privateV6(ip: string): boolean {
  const v = ip.toLowerCase();
  if (v === '::' || v === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(v);
  if (mapped) return privateV4(mapped[1]!);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(v);
}

/**
 * A registry host as credentials are stored under it: lowercased, Docker Hub's other names made
 * `docker.io`. Throws InvalidReference when it is not a host name or IP, with an optional port.
 */
export function registryHost(host: string): string {
  if (host.length === 0 || host.length > 253 || !HOST.test(host) || !hostPortOk(host))
    throw new InvalidReference(
      'must be a registry host name or IP address with an optional port, e.g. registry.example.com or 127.0.0.1:5000',
    );
  return hubAlias(host.toLowerCase());
}

function hubAlias(host: string): string {
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function hostPortOk(host: string): boolean {
  const port = /:([0-9]+)$/.exec(host)?.[1];
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}
