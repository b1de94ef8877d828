// The pods bound to a node, from the shared pod informer (upstream: the "spec.nodeName" indexer the
// node lifecycle, taint eviction and pod GC controllers add, and their getPodsAssignedToNode).

import type { Pod } from "../api/types/core.js";
import type { Informer } from "../cache/informer.js";
import { nodeNameIndexFunc } from "../cache/store.js";

export const NODE_NAME_INDEX = "spec.nodeName";

/** podsAssignedToNode adds the node index to the informer once (it is shared) and returns the lookup. */
export function podsAssignedToNode(pods: Informer<Pod>): (nodeName: string) => Pod[] {
  if (!pods.store.hasIndex(NODE_NAME_INDEX)) pods.addIndex(NODE_NAME_INDEX, nodeNameIndexFunc);
  return (nodeName) => (nodeName ? pods.byIndex(NODE_NAME_INDEX, nodeName) : []);
}
