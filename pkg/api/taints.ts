// Taints and tolerations (upstream k8s.io/api/core/v1 toleration.go and taint.go, and
// pkg/apis/core/v1/helper's GetMatchingTolerations): the matching rules the scheduler, the node
// lifecycle controller and the taint eviction controller share, and the well-known taint keys.

import type { Taint, Toleration } from "./types/core.js";

/** The node controller's NoExecute/NoSchedule taints for Ready=False and Ready=Unknown. */
export const TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
export const TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
/** Set by an administrator on a node known to be down: pod GC may force-delete its terminating pods. */
export const TAINT_NODE_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

type TaintId = Pick<Taint, "key" | "value" | "effect">;

/**
 * toleratesTaint (upstream Toleration.ToleratesTaint): an empty effect matches every effect; an
 * empty key with Exists matches every taint; Exists ignores the value; Equal (the default)
 * compares it.
 */
export function toleratesTaint(t: Toleration, taint: TaintId): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return !!t.key && (t.value ?? "") === (taint.value ?? "");
  return false;
}

/** Same key and effect (upstream Taint.MatchTaint): the identity of a taint on a node. */
export function taintMatches(a: Pick<Taint, "key" | "effect">, b: Pick<Taint, "key" | "effect">): boolean {
  return a.key === b.key && a.effect === b.effect;
}

export function taintExists(taints: readonly Taint[] | undefined, t: Pick<Taint, "key" | "effect">): boolean {
  return (taints ?? []).some((x) => taintMatches(x, t));
}

export function taintKeyExists(taints: readonly Taint[] | undefined, key: string): boolean {
  return (taints ?? []).some((x) => x.key === key);
}

/**
 * getMatchingTolerations (upstream v1helper.GetMatchingTolerations): whether every taint is
 * tolerated, and for each taint the first toleration that tolerates it.
 */
export function getMatchingTolerations(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): { allTolerated: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { allTolerated: false, used: [] };
    used.push(t);
  }
  return { allTolerated: true, used };
}
