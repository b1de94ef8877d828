// PodTopologySpread, lite: spreads the pods of one owner (the same controller ownerReference,
// e.g. one ReplicaSet) across nodes, as upstream's default constraints (hostname, ScheduleAnyway)
// and the older SelectorSpread plugin do. Raw score = matching pods already on the node;
// normalized reversed, so the emptiest node gets 100. Pods without a controller are not spread.

import type { OwnerReference } from "#pkg/api/meta.js";
import type { Pod } from "#pkg/api/types/index.js";
import { type NodeInfo, ownerKeyOf } from "../framework/node-info.js";
import { type CycleState, defaultNormalizeScore, type ScorePlugin } from "../framework/types.js";

export const NAME = "PodTopologySpread";
const OWNER_KEY = `${NAME}/owner`;

export function controllerOf(pod: Pod): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller === true);
}

export const selectorSpread: ScorePlugin = {
  name: NAME,
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const key = state.memo(OWNER_KEY, () => ownerKeyOf(pod));
    // NodeInfo keeps the per-owner counts up to date, so this is O(1) per node.
    return key ? (nodeInfo.ownerCounts.get(key) ?? 0) : 0;
  },
  normalizeScore(_state: CycleState, pod: Pod, scores: number[]): void {
    if (!controllerOf(pod)) {
      scores.fill(0);
      return;
    }
    defaultNormalizeScore(scores, true);
  },
};
