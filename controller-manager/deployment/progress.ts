// Rollout progress (upstream pkg/controller/deployment/progress.go): the Progressing condition
// (NewReplicaSetAvailable when complete, ReplicaSetUpdated on any progress,
// ProgressDeadlineExceeded when progressDeadlineSeconds pass without any), ReplicaFailure
// copied from the ReplicaSets, and a requeue at the deadline so a stuck rollout is reported
// without waiting for another event.

import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from "#pkg/api/types/apps.js";
import {
  DEPLOYMENT_PROGRESSING,
  DEPLOYMENT_REPLICA_FAILURE,
  getDeploymentCondition,
  NEW_RS_AVAILABLE_REASON,
  newDeploymentCondition,
  REPLICASET_REPLICA_FAILURE,
  REPLICASET_UPDATED_REASON,
  removeDeploymentCondition,
  replicaSetToDeploymentCondition,
  setDeploymentCondition,
  TIMED_OUT_REASON,
} from "./conditions.js";
import { calculateStatus, type DeploymentSyncContext, statusEqual, updateDeploymentStatus } from "./sync.js";
import { deploymentComplete, deploymentProgressing, deploymentTimedOut, hasProgressDeadline } from "./util.js";

/**
 * rolloutStatus: the status a rollout step ends with (upstream syncRolloutStatus without the
 * write): calculateStatus plus the Progressing and ReplicaFailure conditions.
 */
export function rolloutStatus(
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  nowMs: number,
): DeploymentStatus {
  const status = calculateStatus(allRSs, newRS, d, nowMs);
  if (!hasProgressDeadline(d)) removeDeploymentCondition(status, DEPLOYMENT_PROGRESSING);
  const current = getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING);
  const isCompleteDeployment =
    (status.replicas ?? 0) === (status.updatedReplicas ?? 0) && current?.reason === NEW_RS_AVAILABLE_REASON;
  // A completed rollout is not re-examined: only a new one (a new ReplicaSet) moves it again.
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    const name = newRS?.metadata.name;
    if (deploymentComplete(d, status)) {
      const msg = name
        ? `ReplicaSet ${JSON.stringify(name)} has successfully progressed.`
        : `Deployment ${JSON.stringify(d.metadata.name)} has successfully progressed.`;
      setDeploymentCondition(
        status,
        newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", NEW_RS_AVAILABLE_REASON, msg, nowMs),
      );
    } else if (deploymentProgressing(d, status)) {
      const msg = name
        ? `ReplicaSet ${JSON.stringify(name)} is progressing.`
        : `Deployment ${JSON.stringify(d.metadata.name)} is progressing.`;
      const cond = newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", REPLICASET_UPDATED_REASON, msg, nowMs);
      // Progress refreshes lastUpdateTime even with the same reason (setDeploymentCondition
      // would keep the old one); a True condition keeps its lastTransitionTime.
      if (current) {
        if (current.status === "True" && current.lastTransitionTime !== undefined) {
          cond.lastTransitionTime = current.lastTransitionTime;
        }
        removeDeploymentCondition(status, DEPLOYMENT_PROGRESSING);
      }
      setDeploymentCondition(status, cond);
    } else if (deploymentTimedOut(d, status, nowMs)) {
      const msg = name
        ? `ReplicaSet ${JSON.stringify(name)} has timed out progressing.`
        : `Deployment ${JSON.stringify(d.metadata.name)} has timed out progressing.`;
      setDeploymentCondition(
        status,
        newDeploymentCondition(DEPLOYMENT_PROGRESSING, "False", TIMED_OUT_REASON, msg, nowMs),
      );
    }
  }
  const failures = getReplicaFailures(allRSs, newRS);
  const [failure] = failures;
  if (failure) setDeploymentCondition(status, failure);
  else removeDeploymentCondition(status, DEPLOYMENT_REPLICA_FAILURE);
  if (status.conditions?.length === 0) delete status.conditions;
  return status;
}

/** The ReplicaFailure conditions of the new ReplicaSet, else of any ReplicaSet. */
export function getReplicaFailures(
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
): DeploymentCondition[] {
  const of = (rs: ReplicaSet | undefined) =>
    (rs?.status?.conditions ?? [])
      .filter((c) => c.type === REPLICASET_REPLICA_FAILURE)
      .map(replicaSetToDeploymentCondition);
  const fromNew = of(newRS);
  if (fromNew.length > 0) return fromNew;
  return allRSs.flatMap(of);
}

/**
 * requeueDelayMs: when to look again at a rollout that has not finished nor timed out, so that
 * ProgressDeadlineExceeded is reported on time: lastUpdateTime + deadline - now (undefined: no
 * need; 0: now).
 */
export function requeueDelayMs(d: Deployment, status: DeploymentStatus, nowMs: number): number | undefined {
  const current = getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING);
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return undefined;
  const from = current.lastUpdateTime ? Date.parse(current.lastUpdateTime) : Number.NaN;
  if (Number.isNaN(from)) return undefined;
  const after = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return after < 1000 ? 0 : after;
}

/**
 * syncRolloutStatus writes the rollout's status when it changed; when it did not, the
 * Deployment is requeued for its progress deadline (a second late, against clock skew in the
 * delay; rate-limited when the deadline is about now).
 */
export async function syncRolloutStatus(
  ctx: DeploymentSyncContext,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<void> {
  const now = ctx.clock.now();
  const status = rolloutStatus(allRSs, newRS, d, now);
  if (statusEqual(d.status, status)) {
    const after = requeueDelayMs(d, status, now);
    if (after === 0) ctx.enqueueRateLimited(d);
    else if (after !== undefined) ctx.enqueueAfter(d, after + 1000);
    return;
  }
  d.status = status;
  await updateDeploymentStatus(ctx, d);
}
