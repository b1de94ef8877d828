// Deployment conditions (upstream pkg/controller/deployment/util/deployment_util.go): the
// condition types and reasons the Deployment controller reports, and the helpers that keep
// lastTransitionTime stable while a condition's status does not change.

import { metaTime } from "#pkg/api/time.js";
import type { DeploymentCondition, DeploymentStatus, WorkloadCondition } from "#pkg/api/types/apps.js";

export const DEPLOYMENT_AVAILABLE = "Available";
export const DEPLOYMENT_PROGRESSING = "Progressing";
export const DEPLOYMENT_REPLICA_FAILURE = "ReplicaFailure";
export const REPLICASET_REPLICA_FAILURE = "ReplicaFailure";

// Progressing reasons.
/** A ReplicaSet of the Deployment has made progress (upstream ReplicaSetUpdatedReason). */
export const REPLICASET_UPDATED_REASON = "ReplicaSetUpdated";
/** Creating the new ReplicaSet failed (upstream FailedRSCreateReason). */
export const FAILED_RS_CREATE_REASON = "ReplicaSetCreateError";
export const NEW_REPLICASET_REASON = "NewReplicaSetCreated";
export const FOUND_NEW_RS_REASON = "FoundNewReplicaSet";
/** The rollout is complete (upstream NewRSAvailableReason). */
export const NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable";
/** No progress within progressDeadlineSeconds (upstream TimedOutReason). */
export const TIMED_OUT_REASON = "ProgressDeadlineExceeded";
export const PAUSED_DEPLOY_REASON = "DeploymentPaused";
export const RESUMED_DEPLOY_REASON = "DeploymentResumed";

// Available reasons.
export const MINIMUM_REPLICAS_AVAILABLE = "MinimumReplicasAvailable";
export const MINIMUM_REPLICAS_UNAVAILABLE = "MinimumReplicasUnavailable";

export type ConditionStatus = "True" | "False" | "Unknown";

/** newDeploymentCondition: a condition whose update and transition times are `nowMs`. */
export function newDeploymentCondition(
  type: string,
  status: ConditionStatus,
  reason: string,
  message: string,
  nowMs: number,
): DeploymentCondition {
  const t = metaTime(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getDeploymentCondition(status: DeploymentStatus | undefined, type: string) {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * setDeploymentCondition puts cond into status: nothing changes when a condition of that type
 * already has the same status and reason; a condition whose status stays keeps its
 * lastTransitionTime. The condition goes last, as upstream.
 */
export function setDeploymentCondition(status: DeploymentStatus, cond: DeploymentCondition): void {
  const cur = getDeploymentCondition(status, cond.type);
  if (cur && cur.status === cond.status && cur.reason === cond.reason) return;
  const next = { ...cond };
  if (cur && cur.status === cond.status && cur.lastTransitionTime !== undefined) {
    next.lastTransitionTime = cur.lastTransitionTime;
  }
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== cond.type), next];
}

export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** A ReplicaSet's condition as a Deployment condition (lastUpdateTime = its lastTransitionTime). */
export function replicaSetToDeploymentCondition(c: WorkloadCondition): DeploymentCondition {
  return {
    type: c.type,
    status: c.status,
    ...(c.lastTransitionTime !== undefined
      ? { lastTransitionTime: c.lastTransitionTime, lastUpdateTime: c.lastTransitionTime }
      : {}),
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
    ...(c.message !== undefined ? { message: c.message } : {}),
  };
}
