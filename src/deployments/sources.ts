import { mkdirSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveLimits } from '../archive/limits.ts';
import { normalizeArchive } from '../archive/normalize.ts';
import type { ArchiveFormat } from '../archive/sniff.ts';

/** What planning a build needs from a stored source, kept beside it. */
export interface SourceManifest {
  paths: string[];
  captured: Map<string, Buffer>;
}

/**
 * Where deployments keep their normalised sources: `<data>/sources/<project>/<id>.tar.gz`
 * plus a manifest, so that a retry can rebuild without the original upload.
 */
export class SourceStore {
  constructor(
    private readonly dataDir: string,
    private readonly limits: ArchiveLimits,
  ) {}

  /** The directory for uploads in flight; on the same filesystem as the sources. */
  tmpDir(): string {
    const dir = join(this.dataDir, 'tmp');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** The data-relative path of a deployment's source. */
  relativePath(project: string, deploymentId: string): string {
    return join('sources', project, `${deploymentId}.tar.gz`);
  }

  /** Absolute path of a stored source. */
  absolute(relative: string): string {
    return join(this.dataDir, relative);
  }

  /** Normalises an upload into the deployment's source and writes its manifest. */
  async store(
    upload: { path: string; format: ArchiveFormat },
    project: string,
    deploymentId: string,
    capture: (path: string) => boolean,
  ): Promise<string> {
    const relative = this.relativePath(project, deploymentId);
    mkdirSync(join(this.dataDir, 'sources', project), { recursive: true, mode: 0o700 });
    const result = await normalizeArchive({
      input: upload.path,
      format: upload.format,
      output: this.absolute(relative),
      limits: this.limits,
      capture,
    });
    const manifest = {
      paths: result.paths,
      captured: Object.fromEntries([...result.captured].map(([k, v]) => [k, v.toString('base64')])),
    };
    await writeFile(this.manifestPath(relative), JSON.stringify(manifest), { mode: 0o600 });
    return relative;
  }

  /** Reads the manifest written by store(). */
  async manifest(relative: string): Promise<SourceManifest> {
    const raw = JSON.parse(await readFile(this.manifestPath(relative), 'utf8')) as {
      paths: string[];
      captured: Record<string, string>;
    };
    return {
      paths: raw.paths,
      captured: new Map(Object.entries(raw.captured).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    };
  }

  /** Deletes every stored source of a project. */
  async removeProject(project: string): Promise<void> {
    await rm(join(this.dataDir, 'sources', project), { recursive: true, force: true });
  }

  /** Deletes a stored source and its manifest. */
  async remove(relative: string): Promise<void> {
    await rm(this.absolute(relative), { force: true });
    await rm(this.manifestPath(relative), { force: true });
  }

  private manifestPath(relative: string): string {
    return this.absolute(relative.replace(/\.tar\.gz$/, '.manifest.json'));
  }
}
