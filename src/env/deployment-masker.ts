import type { DeploymentRepo } from '../db/deployments.ts';
import type { EnvService } from './service.ts';

/**
 * For DeploymentLogs: the masker of a deployment's lines is its project's, which hides the
 * project's current secret values. A deployment's project never changes, so it is looked up once.
 */
export function deploymentMasker(env: EnvService, deployments: DeploymentRepo) {
  const projectOf = new Map<string, string>();
  return (deploymentId: string) => {
    let projectId = projectOf.get(deploymentId);
    if (!projectId) {
      projectId = deployments.findAny(deploymentId)?.project_id;
      if (!projectId) return (line: string) => line;
      projectOf.set(deploymentId, projectId);
    }
    const masker = env.masker(projectId);
    return (line: string) => masker.mask(line);
  };
}
