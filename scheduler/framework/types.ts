// The scheduler framework's vocabulary, after upstream pkg/scheduler/framework/interface.go:
// a Status per plugin call (Success, Unschedulable, UnschedulableAndUnresolvable, Error, Skip),
// a CycleState scratchpad per scheduling cycle, and the plugin interfaces of the extension points
// kubeling runs: PreFilter, Filter and Score in the scheduling cycle, Reserve/Unreserve once a
// node is chosen, PreBind in the binding cycle before the pod's Binding is posted. PreFilter,
// Filter and Score plugins are pure functions of what they are given; a plugin that must write
// to the API server (VolumeBinding) does it only at PreBind, which runs in the background.

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "./node-info.js";

/** Skip (PreFilter only): the plugin has nothing to check for this pod, so its Filter is not run. */
export type Code = "Success" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Error" | "Skip";

/** Status is a plugin's verdict; reasons are the user-facing strings counted in FailedScheduling. */
export interface Status {
  code: Code;
  reasons: string[];
  /** The plugin that failed, filled in by the framework. */
  plugin?: string;
}

export const SUCCESS: Status = Object.freeze({ code: "Success", reasons: [] }) as Status;

export function unschedulable(...reasons: string[]): Status {
  return { code: "Unschedulable", reasons };
}

export function unresolvable(...reasons: string[]): Status {
  return { code: "UnschedulableAndUnresolvable", reasons };
}

/** An Error status: something went wrong (not a verdict on the node); the pod is retried after backoff. */
export function errorStatus(message: string): Status {
  return { code: "Error", reasons: [message] };
}

export const SKIP: Status = Object.freeze({ code: "Skip", reasons: [] }) as Status;

/** statusMessage: the reasons joined as upstream's Status.Message(). */
export function statusMessage(s: Status): string {
  return s.reasons.join(", ");
}

export function isSuccess(s: Status): boolean {
  return s.code === "Success";
}

/**
 * CycleState is the per-pod scratchpad of one scheduling cycle: a plugin computes something
 * about the pod once (its requests, its parsed affinity) and reads it back for every node.
 */
export class CycleState {
  readonly #data = new Map<string, unknown>();
  /** Filter plugins whose PreFilter returned Skip for this pod (upstream SkipFilterPlugins). */
  readonly skipFilterPlugins = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.#data.set(key, value);
  }

  /** Returns the cached value for key, computing it with fn on first use. */
  memo<T>(key: string, fn: () => T): T {
    const cached = this.#data.get(key);
    if (cached !== undefined || this.#data.has(key)) return cached as T;
    const v = fn();
    this.#data.set(key, v);
    return v;
  }
}

export interface Plugin {
  readonly name: string;
}

/**
 * PreFilterPlugin: runs once per pod before any Filter. Unschedulable or
 * UnschedulableAndUnresolvable rejects the pod on every node (the FailedScheduling message is
 * its reasons); Skip leaves out the plugin's Filter for this pod.
 */
export interface PreFilterPlugin extends Plugin {
  preFilter(state: CycleState, pod: Pod): Status;
}

/** FilterPlugin: anything other than Success excludes the node for this pod. */
export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status;
}

/** The view of all nodes a score plugin may need (e.g. to spread pods across them). */
export interface ScoreContext {
  /** Feasible nodes for this pod, in the order they will be scored. */
  nodes: readonly NodeInfo[];
}

/**
 * ScorePlugin ranks a feasible node; normalizeScore (when present) maps the raw scores of
 * all feasible nodes into 0..MAX_NODE_SCORE, as upstream's ScoreExtensions.NormalizeScore.
 */
export interface ScorePlugin extends Plugin {
  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo, ctx: ScoreContext): number;
  normalizeScore?(state: CycleState, pod: Pod, scores: number[]): void;
}

export const MAX_NODE_SCORE = 100;

/**
 * ReservePlugin: reserve runs once a node is chosen, before the binding cycle, to claim what the
 * plugin decided (e.g. assume volume bindings in its cache) so the next pods see it taken.
 * unreserve undoes it when reserve, PreBind or the bind fails; it must be idempotent.
 */
export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: Pod, nodeName: string): Status;
  unreserve(state: CycleState, pod: Pod, nodeName: string): void;
}

/**
 * PreBindPlugin: runs in the binding cycle (in the background, while other pods are scheduled)
 * before the Binding is posted, and may wait (VolumeBinding waits for claims to be bound).
 * signal aborts when the scheduler stops.
 */
export interface PreBindPlugin extends Plugin {
  preBind(state: CycleState, pod: Pod, nodeName: string, signal: AbortSignal): Promise<Status>;
}

/**
 * defaultNormalizeScore scales scores so the highest becomes MAX_NODE_SCORE (upstream
 * helper.DefaultNormalizeScore); with reverse, the lowest raw score ranks highest.
 */
export function defaultNormalizeScore(scores: number[], reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  for (let i = 0; i < scores.length; i++) {
    if (max === 0) {
      scores[i] = reverse ? MAX_NODE_SCORE : 0;
      continue;
    }
    let s = Math.floor(((scores[i] ?? 0) * MAX_NODE_SCORE) / max);
    if (reverse) s = MAX_NODE_SCORE - s;
    scores[i] = s;
  }
}
