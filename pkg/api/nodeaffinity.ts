// Required node affinity of a pod (upstream k8s.io/component-helpers/scheduling/corev1/nodeaffinity
// GetRequiredNodeAffinity(pod).Match(node)): spec.nodeSelector and the required terms, on the
// matchers of node-selector.ts. The DaemonSet controller's "should this node run the daemon pod"
// asks it.

import { nodeSelectorMatches } from "./node-selector.js";
import type { Node, Pod } from "./types/index.js";

/** podMatchesNode: nodeSelector (every label equal) and required node affinity (any term). */
export function podMatchesNode(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return required ? nodeSelectorMatches(required, node) : true;
}
