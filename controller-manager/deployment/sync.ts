// The Deployment controller's shared steps (upstream pkg/controller/deployment/sync.go): finding
// (or creating) the new ReplicaSet and keeping revisions in step, scaling ReplicaSets
// (proportionally while several are active), cleaning up old ReplicaSets beyond
// revisionHistoryLimit, and computing and writing the Deployment's status. The rollout
// strategies (rolling.ts, recreate.ts), progress (progress.ts) and rollback (rollback.ts) are
// built from these.
//
// `d` is the sync's own copy of the Deployment: steps change it (annotations, conditions) and a
// write refreshes its resourceVersion, so later writes in the same sync do not conflict.

import { isAlreadyExists, isNotFound, isStatusError } from "#pkg/api/errors.js";
import { DEPLOYMENTS, REPLICASETS } from "#pkg/api/resources.js";
import type { Deployment, DeploymentStatus, ReplicaSet } from "#pkg/api/types/apps.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { controllerRef } from "#pkg/controller/owners.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  DEPLOYMENT_AVAILABLE,
  DEPLOYMENT_PROGRESSING,
  FAILED_RS_CREATE_REASON,
  FOUND_NEW_RS_REASON,
  getDeploymentCondition,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  NEW_REPLICASET_REASON,
  newDeploymentCondition,
  PAUSED_DEPLOY_REASON,
  RESUMED_DEPLOY_REASON,
  setDeploymentCondition,
  TIMED_OUT_REASON,
} from "./conditions.js";
import { computeHash } from "./hash.js";
import {
  actualReplicaCount,
  availableReplicaCount,
  byRevision,
  cloneAndAddLabel,
  cloneSelectorAndAddLabel,
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  deploymentReplicas,
  equalIgnoreHash,
  filterActiveReplicaSets,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getDesiredReplicasAnnotation,
  getRollbackTo,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  REVISION_ANNOTATION,
  readyReplicaCount,
  replicaCount,
  replicasAnnotationsNeedUpdate,
  rsReplicas,
  semanticEqual,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
} from "./util.js";

/** Upstream maxRevHistoryLengthInChars: revision-history stays under ~100 entries. */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;

/** The Deployment's controller kind, as its ReplicaSets' controllerRef names it. */
export const CONTROLLER_KIND = { apiVersion: "apps/v1", kind: "Deployment" } as const;

/** What the sync steps act through: the API, events, the time, and the controller's queue. */
export interface DeploymentSyncContext {
  client: ApiClient;
  recorder: Pick<EventRecorder, "event">;
  log: Logger;
  clock: Clock;
  /** Sync the Deployment again after ms (progress checks). */
  enqueueAfter(d: Deployment, ms: number): void;
  enqueueRateLimited(d: Deployment): void;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The error says the namespace is terminating (nothing can be created in it any more). */
export function hasNamespaceTerminatingCause(err: unknown): boolean {
  return isStatusError(err) && (err.details?.causes ?? []).some((c) => c.reason === "NamespaceTerminating");
}

/** Writes d's status (and annotations) through the status subresource; refreshes d's resourceVersion. */
export async function updateDeploymentStatus(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  const written = await ctx.client.update(DEPLOYMENTS, d.metadata.namespace, d, { subresource: "status" });
  d.metadata.resourceVersion = written.metadata.resourceVersion;
}

/** Replaces rs's entry (by uid) in a list the sync is still using, so later steps see the write. */
function replaceInList(list: ReplicaSet[], rs: ReplicaSet): void {
  const i = list.findIndex((x) => x.metadata.uid === rs.metadata.uid);
  if (i >= 0) list[i] = rs;
}

// ---------------------------------------------------------------- status

/** Drops the counters that are 0, as the API (omitempty) does, so statuses compare by content. */
export function compactStatus(s: DeploymentStatus | undefined): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const k of [
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
  ] as const) {
    const v = s?.[k];
    if (v !== undefined && v !== 0) out[k] = v;
  }
  if (s?.terminatingReplicas !== undefined) out.terminatingReplicas = s.terminatingReplicas;
  if (s?.collisionCount !== undefined) out.collisionCount = s.collisionCount;
  if (s?.conditions && s.conditions.length > 0) out.conditions = s.conditions.map((c) => ({ ...c }));
  return out;
}

export function statusEqual(a: DeploymentStatus | undefined, b: DeploymentStatus | undefined): boolean {
  return semanticEqual(compactStatus(a), compactStatus(b));
}

/**
 * calculateStatus (upstream): the counters from the ReplicaSets' statuses, the conditions kept
 * from the Deployment, and Available set from whether replicas - maxUnavailable are available.
 */
export function calculateStatus(
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
  nowMs: number,
): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const total = replicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, total - available),
    ...(d.status?.collisionCount !== undefined ? { collisionCount: d.status.collisionCount } : {}),
    conditions: (d.status?.conditions ?? []).map((c) => ({ ...c })),
  };
  if (available >= deploymentReplicas(d) - maxUnavailable(d)) {
    setDeploymentCondition(
      status,
      newDeploymentCondition(
        DEPLOYMENT_AVAILABLE,
        "True",
        MINIMUM_REPLICAS_AVAILABLE,
        "Deployment has minimum availability.",
        nowMs,
      ),
    );
  } else {
    setDeploymentCondition(
      status,
      newDeploymentCondition(
        DEPLOYMENT_AVAILABLE,
        "False",
        MINIMUM_REPLICAS_UNAVAILABLE,
        "Deployment does not have minimum availability.",
        nowMs,
      ),
    );
  }
  return compactStatus(status);
}

/** syncDeploymentStatus writes the calculated status when it differs from the current one. */
export async function syncDeploymentStatus(
  ctx: DeploymentSyncContext,
  allRSs: readonly (ReplicaSet | undefined)[],
  newRS: ReplicaSet | undefined,
  d: Deployment,
): Promise<void> {
  const status = calculateStatus(allRSs, newRS, d, ctx.clock.now());
  if (statusEqual(d.status, status)) return;
  d.status = status;
  await updateDeploymentStatus(ctx, d);
}

// ---------------------------------------------------------------- the new replica set

/**
 * getAllReplicaSetsAndSyncRevision: the new ReplicaSet (created when asked and missing) with its
 * revision raised above every old one's and copied to the Deployment, and all the old ones.
 */
export async function getAllReplicaSetsAndSyncRevision(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  createIfNotExisted: boolean,
): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
  const { allOldRSs } = findOldReplicaSets(d, rsList);
  const newRS = await getNewReplicaSet(ctx, d, rsList, allOldRSs, createIfNotExisted);
  return { newRS, oldRSs: allOldRSs };
}

/**
 * getNewReplicaSet (upstream): the existing new ReplicaSet gets its annotations (revision
 * maxOld+1, the Deployment's annotations) and minReadySeconds brought up to date, and the
 * Deployment its revision; otherwise, if asked, a new ReplicaSet `<deployment>-<hash>` is
 * created at the size the strategy allows. A name taken by a different template is a hash
 * collision: status.collisionCount is bumped and the create retried on the next sync.
 */
export async function getNewReplicaSet(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
  oldRSs: readonly ReplicaSet[],
  createIfNotExisted: boolean,
): Promise<ReplicaSet | undefined> {
  const existing = findNewReplicaSet(d, rsList);
  const newRevision = String(maxRevision(oldRSs) + 1);
  const ns = d.metadata.namespace;
  const now = ctx.clock.now();

  if (existing) {
    const rsCopy = structuredClone(existing);
    const annotationsUpdated = setNewReplicaSetAnnotations(
      d,
      rsCopy,
      newRevision,
      true,
      MAX_REV_HISTORY_LENGTH_IN_CHARS,
    );
    const minReadyNeedsUpdate = (rsCopy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
    if (annotationsUpdated || minReadyNeedsUpdate) {
      if (rsCopy.spec) rsCopy.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0;
      const updated = await ctx.client.update(REPLICASETS, ns, rsCopy);
      replaceInList(rsList, updated);
      return updated;
    }
    // The ReplicaSet's revision is the reliable one: the Deployment follows it.
    let needsUpdate = setDeploymentRevision(d, rsCopy.metadata.annotations?.[REVISION_ANNOTATION] ?? "");
    // A Deployment that never had a Progressing condition starts the clock when its new
    // ReplicaSet is first noticed.
    if (hasProgressDeadline(d) && !getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING)) {
      d.status ??= {};
      setDeploymentCondition(
        d.status,
        newDeploymentCondition(
          DEPLOYMENT_PROGRESSING,
          "True",
          FOUND_NEW_RS_REASON,
          `Found new replica set ${JSON.stringify(rsCopy.metadata.name)}`,
          now,
        ),
      );
      needsUpdate = true;
    }
    if (needsUpdate) await updateDeploymentStatus(ctx, d);
    return rsCopy;
  }

  if (!createIfNotExisted) return undefined;

  const template = structuredClone(d.spec?.template ?? {});
  const hash = computeHash(template, d.status?.collisionCount);
  template.metadata = {
    ...(template.metadata ?? {}),
    labels: cloneAndAddLabel(d.spec?.template?.metadata?.labels, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, hash),
  };
  const name = `${d.metadata.name}-${hash}`;
  const newRS: ReplicaSet = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: {
      name,
      namespace: ns,
      ownerReferences: [
        {
          ...CONTROLLER_KIND,
          name: d.metadata.name ?? "",
          uid: d.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      labels: { ...(template.metadata.labels ?? {}) },
    },
    spec: {
      replicas: 0,
      minReadySeconds: d.spec?.minReadySeconds ?? 0,
      selector: cloneSelectorAndAddLabel(d.spec?.selector, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, hash),
      template,
    },
  };
  const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
  if (newRS.spec) newRS.spec.replicas = newReplicas;
  setNewReplicaSetAnnotations(d, newRS, newRevision, false, MAX_REV_HISTORY_LENGTH_IN_CHARS);

  let created: ReplicaSet;
  let alreadyExisted = false;
  try {
    created = await ctx.client.create(REPLICASETS, ns, newRS);
  } catch (err) {
    if (isAlreadyExists(err)) {
      // A slow cache, or a hash collision: ours only if we control it and its template is ours.
      const found = await ctx.client.get(REPLICASETS, ns, name);
      const ref = controllerRef(found);
      if (!(ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec?.template, found.spec?.template))) {
        d.status ??= {};
        const before = d.status.collisionCount ?? 0;
        d.status.collisionCount = before + 1;
        try {
          await updateDeploymentStatus(ctx, d);
          ctx.log.info(
            { deployment: `${ns}/${d.metadata.name}`, collisionCount: d.status.collisionCount },
            "found a hash collision for deployment; bumped collisionCount to resolve it",
          );
        } catch (statusErr) {
          ctx.log.debug({ err: statusErr }, "cannot bump collisionCount");
        }
        throw err;
      }
      created = found;
      alreadyExisted = true;
    } else if (hasNamespaceTerminatingCause(err)) {
      throw err;
    } else {
      const msg = `Failed to create new replica set ${JSON.stringify(name)}: ${errorMessage(err)}`;
      if (hasProgressDeadline(d)) {
        d.status ??= {};
        setDeploymentCondition(
          d.status,
          newDeploymentCondition(DEPLOYMENT_PROGRESSING, "False", FAILED_RS_CREATE_REASON, msg, now),
        );
        // The create error is what gets retried; the condition is best effort.
        await updateDeploymentStatus(ctx, d).catch(() => undefined);
      }
      ctx.recorder.event(d, "Warning", FAILED_RS_CREATE_REASON, msg);
      throw err;
    }
  }
  if (!alreadyExisted && newReplicas > 0) {
    ctx.recorder.event(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${name} from 0 to ${newReplicas}`);
  }
  let needsUpdate = setDeploymentRevision(d, newRevision);
  if (!alreadyExisted && hasProgressDeadline(d)) {
    d.status ??= {};
    setDeploymentCondition(
      d.status,
      newDeploymentCondition(
        DEPLOYMENT_PROGRESSING,
        "True",
        NEW_REPLICASET_REASON,
        `Created new replica set ${JSON.stringify(name)}`,
        now,
      ),
    );
    needsUpdate = true;
  }
  if (needsUpdate) await updateDeploymentStatus(ctx, d);
  return created;
}

// ---------------------------------------------------------------- scaling

/**
 * scaleReplicaSet sets rs to newScale with the Deployment's current desired/max annotations
 * (written also when only they are stale), recording ScalingReplicaSet when the size changed.
 */
export async function scaleReplicaSet(
  ctx: DeploymentSyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
  operation: string,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  const replicas = deploymentReplicas(d);
  const max = replicas + maxSurge(d);
  const sizeNeedsUpdate = rsReplicas(rs) !== newScale;
  if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, replicas, max)) return { scaled: false, rs };
  const oldScale = rsReplicas(rs);
  const copy = structuredClone(rs);
  copy.spec = { ...(copy.spec ?? { selector: {} }), replicas: newScale };
  setReplicasAnnotations(copy, replicas, max);
  const updated = await ctx.client.update(REPLICASETS, rs.metadata.namespace, copy);
  if (sizeNeedsUpdate) {
    ctx.recorder.event(
      d,
      "Normal",
      "ScalingReplicaSet",
      `Scaled ${operation} replica set ${rs.metadata.name} from ${oldScale} to ${newScale}`,
    );
  }
  return { scaled: sizeNeedsUpdate, rs: updated };
}

/** scaleReplicaSetAndRecordEvent: scaleReplicaSet unless rs already has newScale replicas. */
export async function scaleReplicaSetAndRecordEvent(
  ctx: DeploymentSyncContext,
  rs: ReplicaSet,
  newScale: number,
  d: Deployment,
): Promise<{ scaled: boolean; rs: ReplicaSet }> {
  if (rsReplicas(rs) === newScale) return { scaled: false, rs };
  return scaleReplicaSet(ctx, rs, newScale, d, rsReplicas(rs) < newScale ? "up" : "down");
}

/**
 * scale (upstream): on a scaling event or while paused. One active ReplicaSet (or none) takes
 * all replicas; a saturated new ReplicaSet means the old ones go to 0; otherwise a rolling
 * Deployment spreads the change over its active ReplicaSets in proportion, so scaling neither
 * hastens nor stalls the rollout.
 */
export async function scale(
  ctx: DeploymentSyncContext,
  d: Deployment,
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): Promise<void> {
  const replicas = deploymentReplicas(d);
  const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
  if (activeOrLatest) {
    if (rsReplicas(activeOrLatest) === replicas) return;
    await scaleReplicaSetAndRecordEvent(ctx, activeOrLatest, replicas, d);
    return;
  }
  if (isSaturated(d, newRS)) {
    for (const old of filterActiveReplicaSets(oldRSs)) await scaleReplicaSetAndRecordEvent(ctx, old, 0, d);
    return;
  }
  if (!isRollingUpdate(d)) return;
  const { order, sizes, operation } = proportionalSizes(d, filterActiveReplicaSets([...oldRSs, newRS]));
  for (const rs of order) {
    // One update per ReplicaSet; a failure stops here and the Deployment is synced again.
    await scaleReplicaSet(ctx, rs, sizes.get(rs.metadata.name ?? "") ?? rsReplicas(rs), d, operation);
  }
}

/**
 * isScalingEvent: an active ReplicaSet was sized for a different spec.replicas than the
 * Deployment's now (its desired-replicas annotation), so replicas changed, not the template.
 */
export async function isScalingEvent(
  ctx: DeploymentSyncContext,
  d: Deployment,
  rsList: ReplicaSet[],
): Promise<boolean> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
    const desired = getDesiredReplicasAnnotation(rs);
    if (desired !== undefined && desired !== deploymentReplicas(d)) return true;
  }
  return false;
}

// ---------------------------------------------------------------- paused, scaling, cleanup

/** syncStatusOnly: a Deployment being deleted only has its status kept current. */
export async function syncStatusOnly(ctx: DeploymentSyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/** sync: scaling events and paused Deployments; a paused one also has its history cleaned up. */
export async function sync(ctx: DeploymentSyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  await scale(ctx, d, newRS, oldRSs);
  if (d.spec?.paused && getRollbackTo(d) === undefined) await cleanupDeployment(ctx, oldRSs, d);
  await syncDeploymentStatus(ctx, [...oldRSs, newRS], newRS, d);
}

/**
 * checkPausedConditions: pausing and resuming show as Progressing=Unknown (DeploymentPaused /
 * DeploymentResumed), so time spent paused never counts against the progress deadline; a
 * ProgressDeadlineExceeded already reported is left alone.
 */
export async function checkPausedConditions(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  if (!hasProgressDeadline(d)) return;
  const cond = getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING);
  if (cond?.reason === TIMED_OUT_REASON) return;
  const pausedCondExists = cond?.reason === PAUSED_DEPLOY_REASON;
  const now = ctx.clock.now();
  d.status ??= {};
  if (d.spec?.paused && !pausedCondExists) {
    setDeploymentCondition(
      d.status,
      newDeploymentCondition(DEPLOYMENT_PROGRESSING, "Unknown", PAUSED_DEPLOY_REASON, "Deployment is paused", now),
    );
  } else if (!d.spec?.paused && pausedCondExists) {
    setDeploymentCondition(
      d.status,
      newDeploymentCondition(DEPLOYMENT_PROGRESSING, "Unknown", RESUMED_DEPLOY_REASON, "Deployment is resumed", now),
    );
  } else return;
  await updateDeploymentStatus(ctx, d);
}

/**
 * cleanupDeployment deletes the oldest old ReplicaSets beyond revisionHistoryLimit, only those
 * fully scaled down and settled (no pods, latest spec observed, not being deleted).
 */
export async function cleanupDeployment(
  ctx: DeploymentSyncContext,
  oldRSs: readonly ReplicaSet[],
  d: Deployment,
): Promise<void> {
  if (!hasRevisionHistoryLimit(d)) return;
  const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const diff = cleanable.length - (d.spec?.revisionHistoryLimit ?? 0);
  if (diff <= 0) return;
  cleanable.sort(byRevision);
  for (const rs of cleanable.slice(0, diff)) {
    if (
      (rs.status?.replicas ?? 0) !== 0 ||
      rsReplicas(rs) !== 0 ||
      (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) ||
      rs.metadata.deletionTimestamp
    )
      continue;
    ctx.log.debug(
      { deployment: `${d.metadata.namespace}/${d.metadata.name}`, rs: rs.metadata.name },
      "trying to cleanup replica set",
    );
    try {
      await ctx.client.delete(REPLICASETS, rs.metadata.namespace, rs.metadata.name ?? "");
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
