// NodeAffinity: spec.nodeSelector and required node affinity must match the node (filter; the
// terms are ORed, the expressions inside a term ANDed); preferred terms add their weight when
// they match (score, normalized so the best node gets 100). As upstream nodeaffinity plugin.

import type { Node, NodeSelectorRequirement, NodeSelectorTerm, Pod } from "#pkg/api/types/index.js";
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

function parseIntStrict(s: string | undefined): number | undefined {
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  return Number(s);
}

/** requirementMatches evaluates one NodeSelectorRequirement against a map of labels or fields. */
export function requirementMatches(req: NodeSelectorRequirement, values: Record<string, string>): boolean {
  const has = Object.hasOwn(values, req.key);
  const v = values[req.key];
  const list = req.values ?? [];
  switch (req.operator) {
    case "In":
      return has && list.includes(v ?? "");
    case "NotIn":
      return !has || !list.includes(v ?? "");
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      const nodeVal = parseIntStrict(v);
      const want = parseIntStrict(list[0]);
      if (!has || nodeVal === undefined || want === undefined || list.length !== 1) return false;
      return req.operator === "Gt" ? nodeVal > want : nodeVal < want;
    }
    default:
      return false;
  }
}

/** termMatches: all expressions and fields match; a term with neither matches nothing (upstream). */
export function termMatches(term: NodeSelectorTerm, node: Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const nodeFields = { "metadata.name": node.metadata.name ?? "" };
  for (const e of exprs) if (!requirementMatches(e, labels)) return false;
  for (const f of fields) {
    // Only metadata.name is a supported field, and only with In/NotIn (upstream validation).
    if (f.key !== "metadata.name") return false;
    if (!requirementMatches(f, nodeFields)) return false;
  }
  return true;
}

/** podMatchesNode: nodeSelector (every label equal) and required node affinity (any term). */
export function podMatchesNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return required.nodeSelectorTerms.some((t) => termMatches(t, node));
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
