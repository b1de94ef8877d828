// The framework runtime: runs the profile's PreFilter plugins once for the pod, then its filter
// plugins over every node (stopping at a node's first failure, as upstream), scores the feasible
// nodes, normalizes and weights the scores, and picks the best node with a random tie-break
// (upstream schedule_one.go findNodesThatFitPod / prioritizeNodes / selectHost). A pod that fits
// nowhere gets a FitError whose message is upstream's "0/N nodes are available: ..." text. The
// Reserve, Unreserve and PreBind points are run by the scheduler around the binding
// (runtime/framework.go RunReservePluginsReserve, RunReservePluginsUnreserve, RunPreBindPlugins).

import type { Pod } from "#pkg/api/types/index.js";
import type { Profile } from "../plugins/registry.js";
import type { NodeInfo } from "./node-info.js";
import { type CycleState, errorStatus, type Status, SUCCESS, statusMessage } from "./types.js";

export const NO_NODES_AVAILABLE = "no nodes available to schedule pods";

/** Diagnosis: why each rejected node was rejected. */
export interface Diagnosis {
  nodeToStatus: Map<string, Status>;
  /** The rejecting PreFilter plugin's message: every node was rejected with it. */
  preFilterMsg?: string;
}

function histogram(entries: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const r of entries) counts.set(r, (counts.get(r) ?? 0) + 1);
  // Go's sort.Strings over "count reason" strings: byte order, counts included.
  const parts = [...counts].map(([r, n]) => `${n} ${r}`);
  parts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return parts.join(", ");
}

/**
 * FitError: no node passed the filters. message is the FailedScheduling text: the reasons
 * counted per node and sorted, then what preemption found (kubeling does not preempt, so every
 * node is either "not helpful" (unresolvable) or has no victims).
 */
export class FitError extends Error {
  readonly numAllNodes: number;
  readonly diagnosis: Diagnosis;

  constructor(pod: Pod, numAllNodes: number, diagnosis: Diagnosis) {
    super(FitError.format(pod, numAllNodes, diagnosis));
    this.name = "FitError";
    this.numAllNodes = numAllNodes;
    this.diagnosis = diagnosis;
  }

  static format(pod: Pod, numAllNodes: number, diagnosis: Diagnosis): string {
    let msg: string;
    if (diagnosis.preFilterMsg) {
      // Every node carries the PreFilter status: its message once, not a count per node.
      msg = `0/${numAllNodes} nodes are available: ${diagnosis.preFilterMsg}.`;
    } else {
      const reasons: string[] = [];
      for (const s of diagnosis.nodeToStatus.values()) reasons.push(...s.reasons);
      msg = `0/${numAllNodes} nodes are available: ${histogram(reasons)}.`;
    }
    if (pod.spec?.preemptionPolicy === "Never") {
      msg += " preemption: not eligible due to preemptionPolicy=Never.";
    } else {
      const preemption: string[] = [];
      for (const s of diagnosis.nodeToStatus.values()) {
        preemption.push(
          s.code === "UnschedulableAndUnresolvable"
            ? "Preemption is not helpful for scheduling"
            : "No preemption victims found for incoming pod",
        );
      }
      msg += ` preemption: 0/${numAllNodes} nodes are available: ${histogram(preemption)}.`;
    }
    return msg;
  }
}

export interface ScheduleResult {
  nodeName: string;
  evaluatedNodes: number;
  feasibleNodes: number;
}

export class Framework {
  readonly profile: Profile;
  readonly #random: () => number;

  constructor(profile: Profile, o: { random?: () => number } = {}) {
    this.profile = profile;
    this.#random = o.random ?? Math.random;
  }

  /**
   * runPreFilters: Success, or the status that rejects the pod on every node, tagged with its
   * plugin. An UnschedulableAndUnresolvable status stops at once; an Unschedulable one lets the
   * others run (upstream: preemption may need their state); an Error is wrapped with the
   * plugin's name. Skips are recorded in state.skipFilterPlugins.
   */
  runPreFilters(state: CycleState, pod: Pod): Status {
    let rejected: Status | undefined;
    for (const p of this.profile.preFilters) {
      const s = p.preFilter(state, pod);
      if (s.code === "Skip") {
        state.skipFilterPlugins.add(p.name);
        continue;
      }
      if (s.code === "Success") continue;
      if (s.code === "UnschedulableAndUnresolvable") return { ...s, plugin: p.name };
      if (s.code === "Unschedulable") {
        rejected = { ...s, plugin: p.name };
        continue;
      }
      return { ...errorStatus(`running PreFilter plugin "${p.name}": ${statusMessage(s)}`), plugin: p.name };
    }
    return rejected ?? SUCCESS;
  }

  /** runFilters: the first non-Success status, tagged with its plugin, or Success. */
  runFilters(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    for (const p of this.profile.filters) {
      if (state.skipFilterPlugins.has(p.name)) continue;
      const s = p.filter(state, pod, nodeInfo);
      if (s.code !== "Success") return { ...s, plugin: p.name };
    }
    return SUCCESS;
  }

  findFeasible(
    state: CycleState,
    pod: Pod,
    nodes: readonly NodeInfo[],
  ): { feasible: NodeInfo[]; diagnosis: Diagnosis } {
    const feasible: NodeInfo[] = [];
    const diagnosis: Diagnosis = { nodeToStatus: new Map() };
    for (const n of nodes) {
      const s = this.runFilters(state, pod, n);
      if (s.code === "Success") feasible.push(n);
      else diagnosis.nodeToStatus.set(n.name, s);
    }
    return { feasible, diagnosis };
  }

  /** prioritize: the weighted sum of normalized plugin scores, per feasible node. */
  prioritize(state: CycleState, pod: Pod, feasible: readonly NodeInfo[]): number[] {
    const totals = new Array<number>(feasible.length).fill(0);
    for (const { plugin, weight } of this.profile.scores) {
      const scores = feasible.map((n) => plugin.score(state, pod, n, { nodes: feasible }));
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < scores.length; i++) totals[i] = (totals[i] ?? 0) + (scores[i] ?? 0) * weight;
    }
    return totals;
  }

  /** selectHost: the highest total; ties broken uniformly at random (reservoir sampling). */
  selectHost(feasible: readonly NodeInfo[], totals: readonly number[]): NodeInfo {
    let best = 0;
    let ties = 1;
    for (let i = 1; i < feasible.length; i++) {
      const s = totals[i] ?? 0;
      const b = totals[best] ?? 0;
      if (s > b) {
        best = i;
        ties = 1;
      } else if (s === b) {
        ties++;
        if (this.#random() * ties < 1) best = i;
      }
    }
    const n = feasible[best];
    if (!n) throw new Error("selectHost: no feasible nodes");
    return n;
  }

  /**
   * schedule picks a node for pod among nodes, or throws FitError (or Error when there are no
   * nodes, or a plugin failed with an Error).
   */
  schedule(state: CycleState, pod: Pod, nodes: readonly NodeInfo[]): ScheduleResult {
    if (nodes.length === 0) throw new Error(NO_NODES_AVAILABLE);
    const pre = this.runPreFilters(state, pod);
    if (pre.code === "Error") throw new Error(statusMessage(pre));
    if (pre.code !== "Success") {
      const nodeToStatus = new Map(nodes.map((n) => [n.name, pre] as const));
      throw new FitError(pod, nodes.length, { nodeToStatus, preFilterMsg: statusMessage(pre) });
    }
    const { feasible, diagnosis } = this.findFeasible(state, pod, nodes);
    const failed = [...diagnosis.nodeToStatus.values()].find((s) => s.code === "Error");
    if (failed) throw new Error(`running "${failed.plugin}" filter plugin: ${statusMessage(failed)}`);
    if (feasible.length === 0) throw new FitError(pod, nodes.length, diagnosis);
    const only = feasible[0];
    if (feasible.length === 1 && only) {
      return { nodeName: only.name, evaluatedNodes: nodes.length, feasibleNodes: 1 };
    }
    const totals = this.prioritize(state, pod, feasible);
    const host = this.selectHost(feasible, totals);
    return { nodeName: host.name, evaluatedNodes: nodes.length, feasibleNodes: feasible.length };
  }

  /**
   * runReserve runs every Reserve plugin in order; the first failure is returned (tagged with its
   * plugin, an Error wrapped with its name) and the caller must then run runUnreserve.
   */
  runReserve(state: CycleState, pod: Pod, nodeName: string): Status {
    for (const p of this.profile.reserves) {
      const s = p.reserve(state, pod, nodeName);
      if (s.code === "Success") continue;
      if (s.code === "Error")
        return { ...errorStatus(`running Reserve plugin "${p.name}": ${statusMessage(s)}`), plugin: p.name };
      return { ...s, plugin: p.name };
    }
    return SUCCESS;
  }

  /** runUnreserve undoes every Reserve plugin, in reverse order (upstream). */
  runUnreserve(state: CycleState, pod: Pod, nodeName: string): void {
    const reserves = this.profile.reserves;
    for (let i = reserves.length - 1; i >= 0; i--) reserves[i]?.unreserve(state, pod, nodeName);
  }

  /** runPreBind runs every PreBind plugin in order and stops at the first failure (tagged as runReserve's). */
  async runPreBind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status> {
    for (const p of this.profile.preBinds) {
      let s: Status;
      try {
        s = await p.preBind(state, pod, nodeName, signal);
      } catch (err) {
        s = errorStatus(err instanceof Error ? err.message : String(err));
      }
      if (s.code === "Success") continue;
      if (s.code === "Error")
        return { ...errorStatus(`running PreBind plugin "${p.name}": ${statusMessage(s)}`), plugin: p.name };
      return { ...s, plugin: p.name };
    }
    return SUCCESS;
  }
}
