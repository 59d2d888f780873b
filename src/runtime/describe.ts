/** What `slipway doctor` says about the runtime: which one runs, why, and whether the engine can run it. */
import type { RuntimeKind } from './runtime.ts';

/** The engine's Swarm membership, as `docker info` reports it. */
export interface SwarmState {
  /** inactive, pending, active, error or locked. */
  state: string;
  /** Whether this engine is a manager (services can be created through it). */
  manager: boolean;
  nodes: number | null;
}

/** Reads the engine's Swarm membership from `docker info`. */
export function swarmStateOf(info: {
  Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean; Nodes?: number };
}): SwarmState {
  const s = info.Swarm ?? {};
  return { state: s.LocalNodeState || 'inactive', manager: s.ControlAvailable === true, nodes: s.Nodes ?? null };
}

/** Which runtime runs and why, and whether the engine can run it: a doctor line. */
export function describeRuntime(kind: RuntimeKind, swarm: SwarmState): { ok: boolean; detail: string; fix?: string } {
  const why = kind === 'docker' ? 'SLIPWAY_RUNTIME=docker, the default' : 'SLIPWAY_RUNTIME=swarm';
  const membership =
    swarm.state === 'active'
      ? `the engine is a swarm ${swarm.manager ? 'manager' : 'worker'}${swarm.nodes ? ` of ${swarm.nodes} node${swarm.nodes === 1 ? '' : 's'}` : ''}`
      : `the engine is not in a swarm (${swarm.state})`;
  if (kind === 'docker') return { ok: true, detail: `docker, from ${why}; ${membership}` };
  if (swarm.state === 'active' && swarm.manager) return { ok: true, detail: `swarm, from ${why}; ${membership}` };
  return {
    ok: false,
    detail: `swarm, from ${why}, but ${membership}`,
    fix: 'point DOCKER_HOST at a swarm manager (docker swarm init, or slipway install --swarm), or set SLIPWAY_RUNTIME=docker',
  };
}
