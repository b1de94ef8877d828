// Node selector matching (upstream component-helpers/scheduling/corev1 and its nodeaffinity
// package): a NodeSelectorTerm's expressions against a node's labels and its fields
// (metadata.name), ORed across terms. The scheduler's NodeAffinity plugin, the VolumeBinding
// plugin and the PV binder's node-affinity checks share it.

import type { Node, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm } from "./types/index.js";

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
export function termMatches(term: NodeSelectorTerm, node: Pick<Node, "metadata">): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const nodeFields: Record<string, string> = node.metadata.name ? { "metadata.name": node.metadata.name } : {};
  for (const e of exprs) if (!requirementMatches(e, labels)) return false;
  for (const f of fields) {
    // Only metadata.name is a supported field, and only with In/NotIn (upstream validation).
    if (f.key !== "metadata.name") return false;
    if (!requirementMatches(f, nodeFields)) return false;
  }
  return true;
}

/** nodeSelectorMatches: some term of the selector matches the node (upstream MatchNodeSelectorTerms). */
export function nodeSelectorMatches(selector: NodeSelector, node: Pick<Node, "metadata">): boolean {
  return selector.nodeSelectorTerms.some((t) => termMatches(t, node));
}
