// TaintToleration: NoSchedule and NoExecute taints keep pods off a node unless tolerated
// (filter); intolerable PreferNoSchedule taints make a node less attractive (score, reversed:
// fewer such taints score higher). Matching as upstream's Toleration.ToleratesTaint (pkg/api/taints.ts).

import { toleratesTaint } from "#pkg/api/taints.js";
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

/** tolerationTolerates: upstream's Toleration.ToleratesTaint, shared with the controllers (pkg/api/taints.ts). */
export const tolerationTolerates = toleratesTaint;

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
