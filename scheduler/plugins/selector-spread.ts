// PodTopologySpread, lite: spreads the pods of one owner (the same controller ownerReference,
// e.g. one ReplicaSet) across nodes, as upstream's default constraints (hostname, ScheduleAnyway)
// and the older SelectorSpread plugin do. Raw score = matching pods already on the node;
// normalized reversed, so the emptiest node gets 100. Pods without a controller are not spread.

import type { OwnerReference } from "#pkg/api/meta.js";
import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import { type CycleState, defaultNormalizeScore, type ScorePlugin } from "../framework/types.js";

export const NAME = "PodTopologySpread";

export function controllerOf(pod: Pod): OwnerReference | undefined {
  return pod.metadata.ownerReferences?.find((o) => o.controller === true);
}

export function countOwnedOnNode(nodeInfo: NodeInfo, namespace: string | undefined, ownerUid: string): number {
  let n = 0;
  for (const { pod } of nodeInfo.pods.values()) {
    if (pod.metadata.namespace !== namespace || pod.metadata.deletionTimestamp) continue;
    if (controllerOf(pod)?.uid === ownerUid) n++;
  }
  return n;
}

export const selectorSpread: ScorePlugin = {
  name: NAME,
  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const owner = controllerOf(pod);
    if (!owner) return 0;
    return countOwnedOnNode(nodeInfo, pod.metadata.namespace, owner.uid);
  },
  normalizeScore(_state: CycleState, pod: Pod, scores: number[]): void {
    if (!controllerOf(pod)) {
      scores.fill(0);
      return;
    }
    defaultNormalizeScore(scores, true);
  },
};
