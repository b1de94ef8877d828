// The plugin registry: every filter and score plugin by name, and the default profile with
// upstream's default score weights (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
// NodeResourcesFit/LeastAllocated 1, BalancedAllocation 1). Filters run in upstream's order and
// stop at the first failure for a node.

import type { FilterPlugin, ScorePlugin } from "../framework/types.js";
import { nodeAffinityFilter, nodeAffinityScore } from "./node-affinity.js";
import { nodeName } from "./node-name.js";
import { nodePorts } from "./node-ports.js";
import { nodeResourcesFit } from "./node-resources-fit.js";
import { nodeUnschedulable } from "./node-unschedulable.js";
import { balancedAllocation, leastAllocated } from "./resource-allocation.js";
import { selectorSpread } from "./selector-spread.js";
import { taintTolerationFilter, taintTolerationScore } from "./taint-toleration.js";

export const FILTER_PLUGINS: ReadonlyMap<string, FilterPlugin> = new Map(
  [nodeUnschedulable, nodeName, taintTolerationFilter, nodeAffinityFilter, nodePorts, nodeResourcesFit].map(
    (p) => [p.name, p] as const,
  ),
);

export const SCORE_PLUGINS: ReadonlyMap<string, ScorePlugin> = new Map(
  [taintTolerationScore, nodeAffinityScore, selectorSpread, leastAllocated, balancedAllocation].map(
    (p) => [p.name, p] as const,
  ),
);

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

export interface Profile {
  filters: FilterPlugin[];
  scores: WeightedScorePlugin[];
}

export const DEFAULT_FILTERS = [
  "NodeUnschedulable",
  "NodeName",
  "TaintToleration",
  "NodeAffinity",
  "NodePorts",
  "NodeResourcesFit",
];

export const DEFAULT_SCORE_WEIGHTS: Readonly<Record<string, number>> = {
  TaintToleration: 3,
  NodeAffinity: 2,
  PodTopologySpread: 2,
  NodeResourcesLeastAllocated: 1,
  NodeResourcesBalancedAllocation: 1,
};

/** buildProfile resolves plugin names; an unknown name is a configuration error. */
export function buildProfile(
  filters: readonly string[] = DEFAULT_FILTERS,
  weights: Readonly<Record<string, number>> = DEFAULT_SCORE_WEIGHTS,
): Profile {
  return {
    filters: filters.map((n) => {
      const p = FILTER_PLUGINS.get(n);
      if (!p) throw new Error(`unknown filter plugin "${n}"`);
      return p;
    }),
    scores: Object.entries(weights).map(([n, weight]) => {
      const plugin = SCORE_PLUGINS.get(n);
      if (!plugin) throw new Error(`unknown score plugin "${n}"`);
      return { plugin, weight };
    }),
  };
}
