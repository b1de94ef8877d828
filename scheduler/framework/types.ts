// The scheduler framework's vocabulary, after upstream pkg/scheduler/framework/interface.go:
// a Status per plugin call (Success, Unschedulable, UnschedulableAndUnresolvable, Error),
// a CycleState scratchpad per scheduling cycle, and the Filter and Score plugin interfaces.
// Plugins are pure functions of (state, pod, nodeInfo): all I/O stays in the scheduler.

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "./node-info.js";

export type Code = "Success" | "Unschedulable" | "UnschedulableAndUnresolvable" | "Error";

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

export function isSuccess(s: Status): boolean {
  return s.code === "Success";
}

/**
 * CycleState is the per-pod scratchpad of one scheduling cycle: a plugin computes something
 * about the pod once (its requests, its parsed affinity) and reads it back for every node.
 */
export class CycleState {
  readonly #data = new Map<string, unknown>();

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
