// NodeAffinity: spec.nodeSelector and required node affinity must match the node (filter; the
// terms are ORed, the expressions inside a term ANDed); preferred terms add their weight when
// they match (score, normalized so the best node gets 100). As upstream nodeaffinity plugin.

import { nodeSelectorMatches, termMatches } from "#pkg/api/node-selector.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
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

export const NAME = "NodeAffinity";
export const ERR_REASON = "node(s) didn't match Pod's node affinity/selector";

// The matchers live in pkg/api/node-selector.ts (shared with the volume plugins); re-exported here.
export { requirementMatches, termMatches } from "#pkg/api/node-selector.js";

/** podMatchesNode: nodeSelector (every label equal) and required node affinity (any term). */
export function podMatchesNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return nodeSelectorMatches(required, node);
  return true;
}

export const nodeAffinityFilter: FilterPlugin = {
  name: NAME,
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node) return unresolvable("node not found");
    return podMatchesNode(pod, nodeInfo.node) ? SUCCESS : unresolvable(ERR_REASON);
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name: NAME,
  score(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const node = nodeInfo.node;
    if (!node) return 0;
    let sum = 0;
    for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (p.weight !== 0 && termMatches(p.preference, node)) sum += p.weight;
    }
    return sum;
  },
  normalizeScore(_state: CycleState, _pod: Pod, scores: number[]): void {
    defaultNormalizeScore(scores, false);
  },
};
