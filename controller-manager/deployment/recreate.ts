// The Recreate strategy (upstream pkg/controller/deployment/recreate.go): scale every old
// ReplicaSet to 0, wait until none of their pods is left running (terminating pods count), and
// only then create or scale up the new ReplicaSet, so two versions never run at once.

import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import { syncRolloutStatus } from "./progress.js";
import {
  cleanupDeployment,
  type DeploymentSyncContext,
  getAllReplicaSetsAndSyncRevision,
  scaleReplicaSetAndRecordEvent,
} from "./sync.js";
import {
  actualReplicaCount,
  deploymentComplete,
  deploymentReplicas,
  filterActiveReplicaSets,
  rsReplicas,
} from "./util.js";

/** Pods of the Deployment's ReplicaSets, by ReplicaSet uid (upstream getPodMapForDeployment). */
export type PodMap = ReadonlyMap<string, readonly Pod[]>;

/**
 * oldPodsRunning: an old ReplicaSet still reports pods, or a pod of one is not finished
 * (Unknown counts: a pod on an unreachable node may still be running).
 */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") continue;
      return true;
    }
  }
  return false;
}

/**
 * rolloutRecreate: old ReplicaSets down to 0 first; once their pods are gone, the new
 * ReplicaSet (created now if needed) up to replicas; history cleanup once complete.
 */
export async function rolloutRecreate(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  podMap: () => PodMap,
): Promise<void> {
  let { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  let allRSs: (ReplicaSet | undefined)[] = [...oldRSs, newRS];

  let scaledDown = false;
  for (const rs of filterActiveReplicaSets(oldRSs)) {
    if (rsReplicas(rs) === 0) continue;
    const r = await scaleReplicaSetAndRecordEvent(ctx, rs, 0, d);
    if (r.scaled) scaledDown = true;
  }
  if (scaledDown) {
    await syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  // Wait for the old pods to stop; the pod informer's delete brings the Deployment back.
  if (oldPodsRunning(newRS, oldRSs, podMap())) {
    await syncRolloutStatus(ctx, allRSs, newRS, d);
    return;
  }
  if (!newRS) {
    ({ newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true));
    allRSs = [...oldRSs, newRS];
  }
  if (newRS) await scaleReplicaSetAndRecordEvent(ctx, newRS, deploymentReplicas(d), d);
  if (deploymentComplete(d, d.status ?? {})) await cleanupDeployment(ctx, oldRSs, d);
  await syncRolloutStatus(ctx, allRSs, newRS, d);
}
