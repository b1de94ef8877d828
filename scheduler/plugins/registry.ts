// The plugin registry: every filter and score plugin by name, and the default profile with
// upstream's default score weights (TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
// NodeResourcesFit/LeastAllocated 1, BalancedAllocation 1). Filters run in upstream's order and
// stop at the first failure for a node. Plugins that hold state or read the cluster
// (VolumeBinding) are built per scheduler from a FrameworkHandle, and take part in every
// extension point they implement (upstream's multiPoint): PreFilter, Filter, Reserve, PreBind.

import type {
  FilterPlugin,
  Plugin,
  PreBindPlugin,
  PreFilterPlugin,
  ReservePlugin,
  ScorePlugin,
} from "../framework/types.js";
import { nodeAffinityFilter, nodeAffinityScore } from "./node-affinity.js";
import { nodeName } from "./node-name.js";
import { nodePorts } from "./node-ports.js";
import { nodeResourcesFit } from "./node-resources-fit.js";
import { nodeUnschedulable } from "./node-unschedulable.js";
import { balancedAllocation, leastAllocated } from "./resource-allocation.js";
import { selectorSpread } from "./selector-spread.js";
import { taintTolerationFilter, taintTolerationScore } from "./taint-toleration.js";
import {
  EMPTY_VOLUME_HANDLE,
  NAME as VOLUME_BINDING,
  VolumeBinding,
  type VolumeBindingArgs,
  type VolumeBindingHandle,
} from "./volume-binding.js";

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

/** What per-scheduler plugins are built from (upstream framework.Handle and plugin args). */
export interface FrameworkHandle {
  volumes?: VolumeBindingHandle;
  volumeBindingArgs?: VolumeBindingArgs;
}

/** Filter plugins built per scheduler from its handle. */
export const PLUGIN_FACTORIES: ReadonlyMap<string, (h: FrameworkHandle) => FilterPlugin> = new Map([
  [VOLUME_BINDING, (h: FrameworkHandle) => new VolumeBinding(h.volumes ?? EMPTY_VOLUME_HANDLE, h.volumeBindingArgs)],
]);

export interface WeightedScorePlugin {
  plugin: ScorePlugin;
  weight: number;
}

export interface Profile {
  preFilters: PreFilterPlugin[];
  filters: FilterPlugin[];
  scores: WeightedScorePlugin[];
  reserves: ReservePlugin[];
  preBinds: PreBindPlugin[];
}

export const DEFAULT_FILTERS = [
  "NodeUnschedulable",
  "NodeName",
  "TaintToleration",
  "NodeAffinity",
  "NodePorts",
  "NodeResourcesFit",
  "VolumeBinding",
];

export const DEFAULT_SCORE_WEIGHTS: Readonly<Record<string, number>> = {
  TaintToleration: 3,
  NodeAffinity: 2,
  PodTopologySpread: 2,
  NodeResourcesLeastAllocated: 1,
  NodeResourcesBalancedAllocation: 1,
};

function isPreFilter<P extends Plugin>(p: P): p is P & PreFilterPlugin {
  return typeof (p as Partial<PreFilterPlugin>).preFilter === "function";
}
function isReserve<P extends Plugin>(p: P): p is P & ReservePlugin {
  return typeof (p as Partial<ReservePlugin>).reserve === "function";
}
function isPreBind<P extends Plugin>(p: P): p is P & PreBindPlugin {
  return typeof (p as Partial<PreBindPlugin>).preBind === "function";
}

/** buildProfile resolves plugin names; an unknown name is a configuration error. */
export function buildProfile(
  filters: readonly string[] = DEFAULT_FILTERS,
  weights: Readonly<Record<string, number>> = DEFAULT_SCORE_WEIGHTS,
  handle: FrameworkHandle = {},
): Profile {
  const built = filters.map((n) => {
    const p = FILTER_PLUGINS.get(n) ?? PLUGIN_FACTORIES.get(n)?.(handle);
    if (!p) throw new Error(`unknown filter plugin "${n}"`);
    return p;
  });
  return {
    preFilters: built.filter(isPreFilter),
    filters: built,
    reserves: built.filter(isReserve),
    preBinds: built.filter(isPreBind),
    scores: Object.entries(weights).map(([n, weight]) => {
      const plugin = SCORE_PLUGINS.get(n);
      if (!plugin) throw new Error(`unknown score plugin "${n}"`);
      return { plugin, weight };
    }),
  };
}
