// The two resource score plugins (upstream noderesources/least_allocated.go and
// balanced_allocation.go) over cpu and memory, weight 1 each:
//  - NodeResourcesLeastAllocated: the more room left after placing the pod, the better;
//    counts request-less containers at the default 100m / 200Mi so empty-looking nodes fill too.
//  - NodeResourcesBalancedAllocation: prefers nodes whose cpu and memory fractions stay close
//    (1 - standard deviation of the fractions), using the real requests.

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import { podRequests, type ResourceList } from "../framework/resources.js";
import { type CycleState, MAX_NODE_SCORE, type ScorePlugin } from "../framework/types.js";

export const LEAST_ALLOCATED = "NodeResourcesLeastAllocated";
export const BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";
const RESOURCES = ["cpu", "memory"] as const;

function nonZeroRequests(state: CycleState, pod: Pod): ResourceList {
  return state.memo("resources/nonZeroRequests", () => podRequests(pod, { nonZero: true }));
}

function requests(state: CycleState, pod: Pod): ResourceList {
  return state.memo("resources/requests", () => podRequests(pod));
}

export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

export const leastAllocated: ScorePlugin = {
  name: LEAST_ALLOCATED,
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const req = nonZeroRequests(state, pod);
    let sum = 0;
    let weights = 0;
    for (const r of RESOURCES) {
      const alloc = nodeInfo.allocatable[r] ?? 0;
      if (alloc === 0) continue;
      sum += leastRequestedScore((nodeInfo.nonZeroRequested[r] ?? 0) + (req[r] ?? 0), alloc);
      weights += 1;
    }
    return weights === 0 ? 0 : Math.floor(sum / weights);
  },
};

export const balancedAllocation: ScorePlugin = {
  name: BALANCED_ALLOCATION,
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const req = requests(state, pod);
    const fractions: number[] = [];
    for (const r of RESOURCES) {
      const alloc = nodeInfo.allocatable[r] ?? 0;
      if (alloc === 0) continue;
      fractions.push(Math.min(1, ((nodeInfo.requested[r] ?? 0) + (req[r] ?? 0)) / alloc));
    }
    let std = 0;
    if (fractions.length === 2) std = Math.abs(((fractions[0] ?? 0) - (fractions[1] ?? 0)) / 2);
    else if (fractions.length > 2) {
      const mean = fractions.reduce((a, b) => a + b, 0) / fractions.length;
      std = Math.sqrt(fractions.reduce((a, f) => a + (f - mean) ** 2, 0) / fractions.length);
    }
    return Math.floor((1 - std) * MAX_NODE_SCORE);
  },
};
