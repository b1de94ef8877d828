// The pure parts of the Deployment controller (upstream pkg/controller/deployment/util/
// deployment_util.go): revisions and the annotations on ReplicaSets, maxSurge/maxUnavailable
// with upstream's rounding, which ReplicaSet is the new one, the orders ReplicaSets are scaled
// in, proportional shares, and the predicates the rollout and progress logic decide on.
// Nothing here talks to the API server.

import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { Deployment, DeploymentStatus, ReplicaSet } from "#pkg/api/types/apps.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";
import type { LabelSelector } from "#pkg/api/types/meta.js";
import {
  DEPLOYMENT_PROGRESSING,
  getDeploymentCondition,
  NEW_RS_AVAILABLE_REASON,
  TIMED_OUT_REASON,
} from "./conditions.js";

/** The label (and selector) key that ties a ReplicaSet and its pods to one pod template. */
export const DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY = "pod-template-hash";
/** The rollout sequence number of a ReplicaSet, copied to its Deployment. */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** Earlier revisions of a ReplicaSet whose template came back (a rollback). */
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
/** The Deployment's replicas when the ReplicaSet was last scaled: tells scaling from rolling. */
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
/** replicas + maxSurge when the ReplicaSet was last scaled: the base of proportional scaling. */
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
/** extensions/v1beta1's spec.rollbackTo, kept as an annotation (upstream apps.DeprecatedRollbackTo). */
export const DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to";
export const LAST_APPLIED_CONFIG_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

export const ROLLBACK_REVISION_NOT_FOUND = "DeploymentRollbackRevisionNotFound";
export const ROLLBACK_TEMPLATE_UNCHANGED = "DeploymentRollbackTemplateUnchanged";
export const ROLLBACK_DONE = "DeploymentRollback";

export const RECREATE = "Recreate";
export const ROLLING_UPDATE = "RollingUpdate";

/** math.MaxInt32: progressDeadlineSeconds or revisionHistoryLimit meaning "none". */
export const MAX_INT32 = 2147483647;

// ---------------------------------------------------------------- counts

/** spec.replicas of a Deployment (the API server defaults it to 1). */
export function deploymentReplicas(d: Deployment): number {
  return d.spec?.replicas ?? 1;
}

/** spec.replicas of a ReplicaSet (defaulted to 1 by the API server). */
export function rsReplicas(rs: ReplicaSet): number {
  return rs.spec?.replicas ?? 1;
}

/** Sum of spec.replicas (upstream GetReplicaCountForReplicaSets). */
export function replicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? rsReplicas(rs) : 0), 0);
}

/** Sum of status.replicas (upstream GetActualReplicaCountForReplicaSets). */
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.replicas ?? 0), 0);
}

export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.readyReplicas ?? 0), 0);
}

export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs?.status?.availableReplicas ?? 0), 0);
}

/** ReplicaSets with spec.replicas > 0 (upstream FilterActiveReplicaSets). */
export function filterActiveReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && rsReplicas(rs) > 0);
}

// ---------------------------------------------------------------- surge and unavailability

export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === ROLLING_UPDATE;
}

/**
 * getScaledValueFromIntOrPercent (upstream intstr): an int as it is; "N%" as N% of total,
 * rounded up or down. Anything else throws.
 */
export function getScaledValueFromIntOrPercent(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const m = /^(-?[0-9]+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * resolveFenceposts: maxSurge rounded up and maxUnavailable rounded down against `desired`; when
 * both come to 0 (validation forbids only literal zeros; rounding down can still get there),
 * maxUnavailable is 1, since surging may be impossible (quota).
 */
export function resolveFenceposts(
  maxSurge: number | string | undefined,
  maxUnavailable: number | string | undefined,
  desired: number,
): { surge: number; unavailable: number } {
  const surge = getScaledValueFromIntOrPercent(maxSurge ?? 0, desired, true);
  let unavailable = getScaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** How many pods a rolling Deployment may run above replicas (0 for Recreate). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, deploymentReplicas(d)).surge;
}

/** How many of replicas a rolling Deployment may have unavailable, at most replicas (0 for Recreate). */
export function maxUnavailable(d: Deployment): number {
  const replicas = deploymentReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(ru?.maxSurge, ru?.maxUnavailable, replicas);
  return Math.min(unavailable, replicas);
}

/** replicas - maxUnavailable for a rolling Deployment, else 0. */
export function minAvailable(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return deploymentReplicas(d) - maxUnavailable(d);
}

// ---------------------------------------------------------------- revisions and annotations

/** The revision annotation as a number: 0 when absent, undefined when not an integer. */
export function revision(obj: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const v = obj.metadata.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  return /^-?[0-9]+$/.test(v) ? Number(v) : undefined;
}

/** The highest revision among rss (unparsable ones skipped). */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revision(rs);
    if (v !== undefined && v > max) max = v;
  }
  return max;
}

/** The second highest revision: what `rollout undo` without --to-revision goes back to. */
export function lastRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  let second = 0;
  for (const rs of rss) {
    const v = revision(rs);
    if (v === undefined) continue;
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}

/** setDeploymentRevision sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, rev: string): boolean {
  const annotations = d.metadata.annotations ?? {};
  if (annotations[REVISION_ANNOTATION] === rev) return false;
  d.metadata.annotations = { ...annotations, [REVISION_ANNOTATION]: rev };
  return true;
}

const ANNOTATIONS_TO_SKIP = new Set([
  LAST_APPLIED_CONFIG_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO,
]);

/** Annotations a Deployment and its ReplicaSets do not share (each keeps its own). */
export function skipCopyAnnotation(key: string): boolean {
  return ANNOTATIONS_TO_SKIP.has(key);
}

/**
 * Copies the Deployment's annotations onto the ReplicaSet, except the skipped ones (the
 * ReplicaSet's revision is the reliable one). True when the ReplicaSet changed.
 */
export function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  let changed = false;
  const annotations = { ...(rs.metadata.annotations ?? {}) };
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (skipCopyAnnotation(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  rs.metadata.annotations = annotations;
  return changed;
}

/**
 * setDeploymentAnnotationsTo: on a rollback the Deployment takes the annotations of the
 * ReplicaSet it goes back to (change-cause and the like), keeping its own skipped ones.
 */
export function setDeploymentAnnotationsTo(d: Deployment, rollbackTo: ReplicaSet): void {
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (skipCopyAnnotation(k)) annotations[k] = v;
  for (const [k, v] of Object.entries(rollbackTo.metadata.annotations ?? {})) {
    if (!skipCopyAnnotation(k)) annotations[k] = v;
  }
  d.metadata.annotations = annotations;
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^-?[0-9]+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= -MAX_INT32 - 1 && n <= MAX_INT32 ? n : undefined;
}

export function getDesiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}

export function getMaxReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
}

/** Sets desired-replicas and max-replicas; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  rs.metadata.annotations = annotations;
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = rs.metadata.annotations;
  return a?.[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || a?.[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/**
 * setNewReplicaSetAnnotations (upstream SetNewReplicaSetAnnotations): copies the Deployment's
 * annotations, raises the revision to newRevision when it is lower (never lowers it), records
 * the revision replaced in revision-history (bounded to `historyLimitChars`), and on a
 * ReplicaSet about to be created (`exists` false) sets the replicas annotations. True when
 * anything changed.
 */
export function setNewReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: string,
  exists: boolean,
  historyLimitChars: number,
): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const annotations = rs.metadata.annotations ?? {};
  rs.metadata.annotations = annotations;
  const oldRevision = annotations[REVISION_ANNOTATION];
  let oldRevisionInt = 0;
  if (oldRevision !== undefined && oldRevision !== "") {
    if (!/^-?[0-9]+$/.test(oldRevision)) return false;
    oldRevisionInt = Number(oldRevision);
  }
  if (!/^-?[0-9]+$/.test(newRevision)) return false;
  const newRevisionInt = Number(newRevision);
  if (oldRevisionInt < newRevisionInt) {
    annotations[REVISION_ANNOTATION] = newRevision;
    changed = true;
    // The ReplicaSet had a revision and gets a newer one: its template came back. Keep the old
    // numbers for `rollout history`.
    if (oldRevision !== undefined) {
      const history = annotations[REVISION_HISTORY_ANNOTATION] ?? "";
      if (history === "") annotations[REVISION_HISTORY_ANNOTATION] = oldRevision;
      else {
        const old = history.split(",");
        let total = history.length + oldRevision.length + 1;
        let start = 0;
        while (total > historyLimitChars && start < old.length) {
          total -= (old[start]?.length ?? 0) + 1;
          start++;
        }
        if (total <= historyLimitChars) {
          annotations[REVISION_HISTORY_ANNOTATION] = [...old.slice(start), oldRevision].join(",");
        }
      }
    }
  }
  if (!exists && setReplicasAnnotations(rs, deploymentReplicas(d), deploymentReplicas(d) + maxSurge(d))) {
    changed = true;
  }
  return changed;
}

/**
 * getRollbackTo: the revision asked for through the deprecated rollback annotation (what
 * extensions/v1beta1's rollback subresource set; 0 means the previous revision), if any.
 */
export function getRollbackTo(d: Deployment): { revision: number } | undefined {
  const v = d.metadata.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (v === undefined || !/^-?[0-9]+$/.test(v)) return undefined;
  return { revision: Number(v) };
}

/** setRollbackTo sets, or with undefined clears, the deprecated rollback annotation. */
export function setRollbackTo(d: Deployment, to: { revision: number } | undefined): void {
  const { [DEPRECATED_ROLLBACK_TO]: _old, ...rest } = d.metadata.annotations ?? {};
  d.metadata.annotations = to === undefined ? rest : { ...rest, [DEPRECATED_ROLLBACK_TO]: String(to.revision) };
}

// ---------------------------------------------------------------- templates and selectors

function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return (
    typeof v === "object" && Object.keys(v as object).every((k) => (v as Record<string, unknown>)[k] === undefined)
  );
}

/**
 * semanticEqual: deep equality where absent, null, empty lists and empty maps are all the same
 * (as apimachinery's Semantic.DeepEqual treats nil and empty slices and maps).
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (isEmptyValue(a) && isEmptyValue(b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!semanticEqual(ao[k], bo[k])) return false;
  return true;
}

function withoutHashLabel(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(t ?? {});
  if (copy.metadata?.labels) {
    const { [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: _hash, ...rest } = copy.metadata.labels;
    copy.metadata.labels = rest;
  }
  return copy;
}

/** equalIgnoreHash: two pod templates are the same once the pod-template-hash label is ignored. */
export function equalIgnoreHash(t1: PodTemplateSpec | undefined, t2: PodTemplateSpec | undefined): boolean {
  return semanticEqual(withoutHashLabel(t1), withoutHashLabel(t2));
}

/** Labels plus key=value, as a new map. */
export function cloneAndAddLabel(
  labels: Record<string, string> | undefined,
  key: string,
  value: string,
): Record<string, string> {
  return { ...(labels ?? {}), [key]: value };
}

/** A copy of the selector that also requires key=value (upstream CloneSelectorAndAddLabel). */
export function cloneSelectorAndAddLabel(sel: LabelSelector | undefined, key: string, value: string): LabelSelector {
  const copy: LabelSelector = structuredClone(sel ?? {});
  copy.matchLabels = { ...(copy.matchLabels ?? {}), [key]: value };
  return copy;
}

/** On rollback: the Deployment takes the ReplicaSet's template, without the hash label. */
export function setFromReplicaSetTemplate(d: Deployment, template: PodTemplateSpec | undefined): void {
  if (!d.spec) return;
  d.spec.template = withoutHashLabel(template);
}

/** The Deployment's selector, or undefined when it is invalid or selects everything. */
export function deploymentSelector(d: Deployment): Selector | undefined {
  try {
    const sel = selectorFromLabelSelector(d.spec?.selector);
    return sel.empty ? undefined : sel;
  } catch {
    return undefined;
  }
}

/** Deployments of the namespace whose (non-empty) selector matches the ReplicaSet's labels. */
export function getDeploymentsForReplicaSet(deployments: readonly Deployment[], rs: ReplicaSet): Deployment[] {
  const labels = rs.metadata.labels;
  if (!labels || Object.keys(labels).length === 0) return [];
  return deployments.filter(
    (d) => d.metadata.namespace === rs.metadata.namespace && deploymentSelector(d)?.matches(labels) === true,
  );
}

// ---------------------------------------------------------------- orders

function createdMs(rs: ReplicaSet): number {
  const t = rs.metadata.creationTimestamp;
  const ms = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? 0 : ms;
}

/** Older first, then by name (upstream controller.ReplicaSetsByCreationTimestamp). */
export function byCreationTimestamp(a: ReplicaSet, b: ReplicaSet): number {
  const d = createdMs(a) - createdMs(b);
  if (d !== 0) return d;
  const na = a.metadata.name ?? "";
  const nb = b.metadata.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** Larger first; among equals, older first: the order of scaling down. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  const d = rsReplicas(b) - rsReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(a, b);
}

/** Larger first; among equals, newer first: the order of scaling up. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  const d = rsReplicas(b) - rsReplicas(a);
  return d !== 0 ? d : byCreationTimestamp(b, a);
}

/** Lower revision first, then older (upstream ReplicaSetsByRevision): the order of cleanup. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revision(a) ?? 0;
  const rb = revision(b) ?? 0;
  return ra !== rb ? ra - rb : byCreationTimestamp(a, b);
}

// ---------------------------------------------------------------- new and old replica sets

/**
 * findNewReplicaSet: the ReplicaSet whose template is the Deployment's; the oldest when several
 * are (possible after upgrades), so the choice is deterministic.
 */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...rsList].sort(byCreationTimestamp).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** The ReplicaSets that are not the new one: those with replicas, and all of them. */
export function findOldReplicaSets(
  d: Deployment,
  rsList: readonly ReplicaSet[],
): { requiredRSs: ReplicaSet[]; allOldRSs: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const allOldRSs = rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
  return { requiredRSs: allOldRSs.filter((rs) => rsReplicas(rs) !== 0), allOldRSs };
}

/**
 * findActiveOrLatest: with at most one active ReplicaSet, the one to give all replicas: the
 * active one, else the new one, else the newest old one. With several active, undefined.
 */
export function findActiveOrLatest(
  newRS: ReplicaSet | undefined,
  oldRSs: readonly ReplicaSet[],
): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActiveReplicaSets([...newestFirst, newRS]);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** isSaturated: the new ReplicaSet has all the replicas, was asked for them, and has them available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = getDesiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const replicas = deploymentReplicas(d);
  return rsReplicas(rs) === replicas && desired === replicas && (rs.status?.availableReplicas ?? 0) === replicas;
}

/**
 * The pods of a ReplicaSet as far as maxSurge is concerned: spec.replicas, or status.replicas
 * while the ReplicaSet controller has not yet removed the pods of a scale-down.
 */
export function surgeCount(rs: ReplicaSet): number {
  return Math.max(rsReplicas(rs), rs.status?.replicas ?? 0);
}

/**
 * The available pods a ReplicaSet keeps for sure once its controller has carried out a
 * scale-down it has not reported yet: status.availableReplicas less the pods above spec.replicas
 * still counted in status.replicas (which may be available ones).
 *
 * Upstream reads status.availableReplicas as it is, so a scale-down decided on a status the
 * ReplicaSet controller wrote before removing the pods of the previous one can take availability
 * below replicas - maxUnavailable.
 */
export function availableAfterScaleDown(rs: ReplicaSet): number {
  const excess = Math.max(0, (rs.status?.replicas ?? 0) - rsReplicas(rs));
  return Math.max(0, (rs.status?.availableReplicas ?? 0) - excess);
}

/**
 * newRSNewReplicas: the size the new ReplicaSet may grow to now. RollingUpdate: up to
 * replicas + maxSurge pods in all, never above replicas; Recreate: replicas.
 *
 * Upstream counts every ReplicaSet at spec.replicas, so right after an old ReplicaSet is scaled
 * down its pods and the new ones may briefly exceed the surge; counting it at status.replicas
 * until its controller reports the pods gone keeps the pods themselves within the bound.
 */
export function newRSNewReplicas(d: Deployment, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = deploymentReplicas(d);
  const type = d.spec?.strategy?.type;
  if (type === RECREATE) return replicas;
  if (type !== ROLLING_UPDATE) throw new Error(`deployment type ${type} isn't supported`);
  const surge = getScaledValueFromIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge ?? 0, replicas, true);
  const current = allRSs.reduce((n, rs) => n + surgeCount(rs), 0);
  const maxTotal = replicas + surge;
  if (current >= maxTotal) return rsReplicas(newRS);
  const scaleUp = Math.min(maxTotal - current, replicas - rsReplicas(newRS));
  return rsReplicas(newRS) + scaleUp;
}

// ---------------------------------------------------------------- proportional scaling

function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/**
 * The share of a scaling of the Deployment for one ReplicaSet: its size scaled by how the
 * Deployment's replicas + maxSurge changed since the ReplicaSet was last sized (max-replicas).
 */
export function getReplicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  if (deploymentReplicas(d) === 0) return -rsReplicas(rs);
  const deploymentMax = deploymentReplicas(d) + maxSurge(d);
  let before = getMaxReplicasAnnotation(rs);
  if (before === undefined || before === 0) {
    // Without the annotation, the Deployment's current size is the best guess; the min/max in
    // getProportion keeps the total within bounds.
    before = d.status?.replicas ?? 0;
    if (before === 0) return 0;
  }
  const size = (rsReplicas(rs) * deploymentMax) / before;
  return roundHalfAwayFromZero(size) - rsReplicas(rs);
}

/**
 * getProportion: how many of `toAdd` (negative when scaling down) this ReplicaSet takes, given
 * that `added` have been handed out already; never more than what is left.
 */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = getReplicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

/**
 * proportionalSizes: the new size of each active ReplicaSet when a Deployment with several is
 * scaled (upstream's scale): replicas + maxSurge spread over them in proportion to their sizes,
 * the rounding leftover to the first (largest) one. `order` is the order to apply them in and
 * the direction of the change.
 */
export function proportionalSizes(
  d: Deployment,
  active: readonly ReplicaSet[],
): { order: ReplicaSet[]; sizes: Map<string, number>; operation: "up" | "down" | "" } {
  const allowed = deploymentReplicas(d) > 0 ? deploymentReplicas(d) + maxSurge(d) : 0;
  const toAdd = allowed - replicaCount(active);
  let order = [...active];
  let operation: "up" | "down" | "" = "";
  if (toAdd > 0) {
    order = order.sort(bySizeNewer);
    operation = "up";
  } else if (toAdd < 0) {
    order = order.sort(bySizeOlder);
    operation = "down";
  }
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of order) {
    const name = rs.metadata.name ?? "";
    if (toAdd === 0) {
      sizes.set(name, rsReplicas(rs));
      continue;
    }
    const p = getProportion(rs, d, toAdd, added);
    sizes.set(name, rsReplicas(rs) + p);
    added += p;
  }
  const first = order[0];
  if (first && toAdd !== 0) {
    const name = first.metadata.name ?? "";
    sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
  }
  return { order, sizes, operation };
}

// ---------------------------------------------------------------- progress

export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return s !== undefined && s !== MAX_INT32;
}

export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return l !== undefined && l !== MAX_INT32;
}

/** deploymentComplete: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = deploymentReplicas(d);
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
  );
}

/**
 * deploymentProgressing: compared with the Deployment's current status, the new one has more
 * updated, ready or available replicas, or fewer old ones.
 */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/**
 * deploymentTimedOut: the Progressing condition was last updated more than
 * progressDeadlineSeconds before `nowMs` (never after a completed rollout; always once reported).
 */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const cond = getDeploymentCondition(status, DEPLOYMENT_PROGRESSING);
  if (!cond) return false;
  if (cond.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (cond.reason === TIMED_OUT_REASON) return true;
  const from = cond.lastUpdateTime ? Date.parse(cond.lastUpdateTime) : Number.NaN;
  if (Number.isNaN(from)) return false;
  return from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}
