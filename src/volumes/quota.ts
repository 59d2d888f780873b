/**
 * Whether the engine can limit a volume's size. Docker's local driver takes a `size` option only
 * when its data root is on xfs mounted with project quotas (`pquota`/`prjquota`); anywhere else
 * it refuses the volume ("quota size requested but no quota support"). Slipway asks once, by
 * creating a tiny labelled probe volume with a limit and removing it, and remembers the answer.
 */
import type Docker from 'dockerode';
import { createDockerVolume, newDockerVolumeName } from './docker-volumes.ts';

/** What the probe found: `reason` says why limits are not enforced. */
export interface QuotaSupport {
  enforced: boolean;
  reason: string | null;
}

/** Asks the engine once per process; later calls get the same answer. */
export class VolumeQuotaProbe {
  private answer: Promise<QuotaSupport> | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly agentId: string,
  ) {}

  /** The engine's answer, probing on first use. A probe that fails for another reason is asked again later. */
  support(): Promise<QuotaSupport> {
    this.answer ??= this.probe().catch((err) => {
      this.answer = null;
      throw err;
    });
    return this.answer;
  }

  private async probe(): Promise<QuotaSupport> {
    const dockerName = newDockerVolumeName('quota-probe', 'probe');
    try {
      await createDockerVolume(this.docker, {
        agentId: this.agentId,
        project: '',
        volume: 'quota-probe',
        dockerName,
        limitBytes: 1024 * 1024,
      });
    } catch (err) {
      const message = (err as { json?: { message?: string } }).json?.message ?? (err as Error).message;
      if (/quota/i.test(message)) return { enforced: false, reason: message };
      throw err;
    }
    await this.docker
      .getVolume(dockerName)
      .remove()
      .catch(() => {});
    return { enforced: true, reason: null };
  }
}
