// TaintToleration: NoSchedule and NoExecute taints keep pods off a node unless tolerated
// (filter); intolerable PreferNoSchedule taints make a node less attractive (score, reversed:
// fewer such taints score higher). Matching as upstream's Toleration.ToleratesTaint.

import type { Pod, Taint, Toleration } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import {
  type CycleState,
  defaultNormalizeScore,
  type FilterPlugin,
  type ScorePlugin,
  type Status,
  SUCCESS,
  unresolvable,
} from "../framework/types.js";

export const NAME = "TaintToleration";

/**
 * tolerationTolerates: an empty effect matches every effect; an empty key with Exists matches
 * every taint; Exists ignores the value; Equal (the default) compares it.
 */
export function tolerationTolerates(t: Toleration, taint: Pick<Taint, "key" | "value" | "effect">): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator || "Equal";
  if (op === "Exists") return true;
  if (op === "Equal") return !!t.key && (t.value ?? "") === (taint.value ?? "");
  return false;
}

function tolerated(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => tolerationTolerates(t, taint));
}

export const taintTolerationFilter: FilterPlugin = {
  name: NAME,
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const tolerations = pod.spec?.tolerations ?? [];
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
      if (!tolerated(tolerations, taint)) {
        return unresolvable(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`);
      }
    }
    return SUCCESS;
  },
};

export const taintTolerationScore: ScorePlugin = {
  name: NAME,
  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    // Upstream only considers tolerations that can match PreferNoSchedule (empty or that effect).
    const tolerations = (pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === "PreferNoSchedule");
    let n = 0;
    for (const taint of nodeInfo.node?.spec?.taints ?? []) {
      if (taint.effect === "PreferNoSchedule" && !tolerated(tolerations, taint)) n++;
    }
    return n;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    defaultNormalizeScore(scores, true);
  },
};
