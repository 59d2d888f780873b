import { describe, expect, test } from 'bun:test';
import { VolumeQuotaProbe } from '../../src/volumes/quota.ts';
import { dockerClient, requireDocker } from '../helpers/docker.ts';

const hasDocker = await requireDocker();

describe.skipIf(!hasDocker)('the volume quota probe', () => {
  test('answers whether the engine enforces volume sizes, once, and leaves no probe volume behind', async () => {
    const docker = dockerClient();
    const agent = `agt_test${crypto.randomUUID().slice(0, 8)}`;
    const probe = new VolumeQuotaProbe(docker, agent);
    const support = await probe.support();
    // Docker's local driver takes a size only on an xfs data root mounted with project quotas.
    const { DriverStatus } = (await docker.info()) as { DriverStatus: [string, string][] };
    const xfs = DriverStatus.some(([k, v]) => k === 'Backing Filesystem' && v === 'xfs');
    if (!xfs) expect(support).toEqual({ enforced: false, reason: expect.stringContaining('quota') });
    expect(await probe.support()).toBe(support);
    const { Volumes: left } = await docker.listVolumes({ filters: { label: [`slipway.agent=${agent}`] } });
    expect(left ?? []).toEqual([]);
  });
});
