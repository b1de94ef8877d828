// Pod predicates and the scale-down order shared by controllers that own pods (upstream
// pkg/api/v1/pod/util.go and pkg/controller/controller_utils.go's ActivePodsWithRanks).

import type { Pod, PodCondition, PodStatus } from "../api/types/core.js";

/** Upstream's controller.kubernetes.io/pod-deletion-cost: lower cost is deleted first. */
export const POD_DELETION_COST = "controller.kubernetes.io/pod-deletion-cost";

/** Not finished and not being deleted (upstream IsPodActive). */
export function isPodActive(p: Pod): boolean {
  const phase = p.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !p.metadata.deletionTimestamp;
}

function readyCondition(p: Pod) {
  return p.status?.conditions?.find((c) => c.type === "Ready");
}

export function isPodReady(p: Pod): boolean {
  return readyCondition(p)?.status === "True";
}

/** Ready for at least minReadySeconds at `now` (upstream IsPodAvailable). */
export function isPodAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  const c = readyCondition(p);
  if (c?.status !== "True") return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : Number.NaN;
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(p: Pod): number {
  const v = Number(p.metadata.annotations?.[POD_DELETION_COST] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

function readySince(p: Pod): number {
  const t = readyCondition(p)?.lastTransitionTime;
  return t ? Date.parse(t) : 0;
}

function maxRestarts(p: Pod): number {
  return Math.max(0, ...(p.status?.containerStatuses ?? []).map((s) => s.restartCount));
}

function created(p: Pod): number | undefined {
  const t = p.metadata.creationTimestamp;
  return t ? Date.parse(t) : undefined;
}

/**
 * Compares two pods for scale-down: negative when `a` should be deleted before `b`. `rank` is
 * how many pods of the same owner share the node (doubled-up pods go first).
 */
export function compareForDeletion(a: Pod, b: Pod, rankA = 0, rankB = 0): number {
  // 1. Unassigned before assigned.
  const na = a.spec?.nodeName ? 1 : 0;
  const nb = b.spec?.nodeName ? 1 : 0;
  if (na !== nb) return na - nb;
  // 2. Pending before Unknown before Running.
  const pa = PHASE_ORDER[a.status?.phase ?? "Pending"] ?? 0;
  const pb = PHASE_ORDER[b.status?.phase ?? "Pending"] ?? 0;
  if (pa !== pb) return pa - pb;
  // 3. Not ready before ready.
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  // 4. Lower pod-deletion-cost first.
  const ca = deletionCost(a);
  const cb = deletionCost(b);
  if (ca !== cb) return ca - cb;
  // 5. More pods of the owner on the same node first.
  if (rankA !== rankB) return rankB - rankA;
  // 6. Ready for less time first.
  if (ra === 1 && rb === 1) {
    const ta = readySince(a);
    const tb = readySince(b);
    if (ta !== tb) return tb - ta;
  }
  // 7. More restarts first.
  const xa = maxRestarts(a);
  const xb = maxRestarts(b);
  if (xa !== xb) return xb - xa;
  // 8. No creation time, then newer, before older.
  const ta = created(a);
  const tb = created(b);
  if (ta === undefined || tb === undefined) return (ta === undefined ? 0 : 1) - (tb === undefined ? 0 : 1);
  return tb - ta;
}

/** The n pods to delete first, ranked by how many of `pods` share each one's node. */
export function podsToDelete(pods: readonly Pod[], n: number): Pod[] {
  if (n >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (p: Pod) => (p.spec?.nodeName ? (perNode.get(p.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank(a), rank(b))).slice(0, n);
}

/**
 * updatePodCondition (upstream apipod.UpdatePodCondition): sets the condition of its type in
 * status, with lastTransitionTime `now` unless the status is unchanged; true if anything changed.
 */
export function updatePodCondition(status: PodStatus, condition: PodCondition, now: string): boolean {
  status.conditions ??= [];
  const conditions = status.conditions;
  const i = conditions.findIndex((c) => c.type === condition.type);
  const old = conditions[i];
  if (!old) {
    conditions.push({ ...condition, lastTransitionTime: now });
    return true;
  }
  const next: PodCondition = {
    ...condition,
    lastTransitionTime: condition.status === old.status ? old.lastTransitionTime : now,
  };
  if (next.lastTransitionTime === undefined) delete next.lastTransitionTime;
  const same =
    next.status === old.status &&
    next.reason === old.reason &&
    next.message === old.message &&
    (next.lastProbeTime ?? null) === (old.lastProbeTime ?? null) &&
    next.lastTransitionTime === old.lastTransitionTime;
  conditions[i] = next;
  return !same;
}
