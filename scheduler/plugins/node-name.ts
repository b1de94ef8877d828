// NodeName: a pod that names a node (spec.nodeName set by its author before scheduling, e.g.
// through the scheduler's own queue after an update) fits only that node.

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import { type CycleState, type FilterPlugin, type Status, SUCCESS, unresolvable } from "../framework/types.js";

export const NAME = "NodeName";
export const ERR_REASON = "node(s) didn't match the requested node name";

export const nodeName: FilterPlugin = {
  name: NAME,
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const want = pod.spec?.nodeName;
    if (!want || want === nodeInfo.name) return SUCCESS;
    return unresolvable(ERR_REASON);
  },
};
