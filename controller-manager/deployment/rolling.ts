// The RollingUpdate strategy (upstream pkg/controller/deployment/rolling.go): grow the new
// ReplicaSet while the total stays within replicas + maxSurge, shrink old ones while
// replicas - maxUnavailable stay available, unhealthy old replicas first. One step per sync:
// the ReplicaSet updates it makes bring the Deployment back for the next step.
//
// The plan* functions decide (pure, unit-tested); the rest carries the plans out.

import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import { syncRolloutStatus } from "./progress.js";
import {
  cleanupDeployment,
  type DeploymentSyncContext,
  getAllReplicaSetsAndSyncRevision,
  scaleReplicaSetAndRecordEvent,
} from "./sync.js";
import {
  availableAfterScaleDown,
  byCreationTimestamp,
  deploymentComplete,
  deploymentReplicas,
  filterActiveReplicaSets,
  maxUnavailable,
  newRSNewReplicas,
  replicaCount,
  rsReplicas,
} from "./util.js";

export interface ScaleStep {
  rs: ReplicaSet;
  replicas: number;
}

/** The size the new ReplicaSet should have now, or undefined when it is right already. */
export function planNewReplicaSet(allRSs: readonly ReplicaSet[], newRS: ReplicaSet, d: Deployment): number | undefined {
  const replicas = deploymentReplicas(d);
  const current = rsReplicas(newRS);
  if (current === replicas) return undefined;
  if (current > replicas) return replicas;
  const next = newRSNewReplicas(d, allRSs, newRS);
  return next === current ? undefined : next;
}

/**
 * maxScaledDown: how many old replicas may go without dropping below replicas - maxUnavailable,
 * counting the new ReplicaSet's unavailable pods as already missing.
 */
export function maxScaledDown(allRSs: readonly ReplicaSet[], newRS: ReplicaSet, d: Deployment): number {
  const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
  const newRSUnavailable = rsReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  return replicaCount(allRSs) - minAvailable - newRSUnavailable;
}

/**
 * planCleanupUnhealthyReplicas: scale old ReplicaSets down by their unavailable replicas, oldest
 * first, at most maxCleanupCount in all; unhealthy old pods must not block the rollout.
 */
export function planCleanupUnhealthyReplicas(
  oldRSs: readonly ReplicaSet[],
  maxCleanupCount: number,
): { steps: ScaleStep[]; total: number } {
  const steps: ScaleStep[] = [];
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreationTimestamp)) {
    if (total >= maxCleanupCount) break;
    const replicas = rsReplicas(rs);
    // Not more than spec: a status written before a scale-down was carried out counts pods
    // about to go (the ReplicaSet controller removes unavailable ones first).
    const available = Math.min(rs.status?.availableReplicas ?? 0, replicas);
    if (replicas === 0 || replicas === available) continue;
    const count = Math.min(maxCleanupCount - total, replicas - available);
    const next = replicas - count;
    if (next > replicas) {
      throw new Error(
        `when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${replicas} -> ${next}`,
      );
    }
    steps.push({ rs, replicas: next });
    total += count;
  }
  return { steps, total };
}

/**
 * planScaleDownOldReplicaSets: scale old ReplicaSets down, oldest first, by what is available
 * above replicas - maxUnavailable (availability as availableAfterScaleDown counts it).
 */
export function planScaleDownOldReplicaSets(
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): { steps: ScaleStep[]; total: number } {
  const minAvailable = deploymentReplicas(d) - maxUnavailable(d);
  const available = allRSs.reduce((n, rs) => n + availableAfterScaleDown(rs), 0);
  const steps: ScaleStep[] = [];
  if (available <= minAvailable) return { steps, total: 0 };
  const totalToScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of [...oldRSs].sort(byCreationTimestamp)) {
    if (total >= totalToScaleDown) break;
    const replicas = rsReplicas(rs);
    if (replicas === 0) continue;
    const count = Math.min(replicas, totalToScaleDown - total);
    const next = replicas - count;
    if (next > replicas) {
      throw new Error(
        `when scaling down old RS, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${replicas} -> ${next}`,
      );
    }
    steps.push({ rs, replicas: next });
    total += count;
  }
  return { steps, total };
}

async function reconcileNewReplicaSet(
  ctx: DeploymentSyncContext,
  allRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  const target = planNewReplicaSet(allRSs, newRS, d);
  if (target === undefined) return false;
  const { scaled } = await scaleReplicaSetAndRecordEvent(ctx, newRS, target, d);
  return scaled;
}

async function reconcileOldReplicaSets(
  ctx: DeploymentSyncContext,
  allRSs: readonly ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  newRS: ReplicaSet,
  d: Deployment,
): Promise<boolean> {
  if (replicaCount(oldRSs) === 0) return false;
  const max = maxScaledDown(allRSs, newRS, d);
  if (max <= 0) return false;
  const current = [...oldRSs];
  const cleanup = planCleanupUnhealthyReplicas(current, max);
  for (const step of cleanup.steps) {
    const { rs } = await scaleReplicaSetAndRecordEvent(ctx, step.rs, step.replicas, d);
    const i = current.indexOf(step.rs);
    if (i >= 0) current[i] = rs;
  }
  const scaleDown = planScaleDownOldReplicaSets([...current, newRS], current, d);
  for (const step of scaleDown.steps) await scaleReplicaSetAndRecordEvent(ctx, step.rs, step.replicas, d);
  return cleanup.total + scaleDown.total > 0;
}

/**
 * rolloutRolling: one step of a rolling update: scale the new ReplicaSet up if possible, else old
 * ones down if possible, else (the rollout complete) clean up history; status every time.
 */
export async function rolloutRolling(ctx: DeploymentSyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  if (!newRS) throw new Error(`deployment ${d.metadata.namespace}/${d.metadata.name}: no new replica set`);
  const allRSs = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(ctx, allRSs, newRS, d)) {
    await syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (await reconcileOldReplicaSets(ctx, allRSs, filterActiveReplicaSets(oldRSs), newRS, d)) {
    await syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (deploymentComplete(d, d.status ?? {})) await cleanupDeployment(ctx, oldRSs, d);
  await syncRolloutStatus(ctx, allRSs, newRS, d);
}
