// NodeUnschedulable: a cordoned node (spec.unschedulable) takes no new pods, unless the pod
// tolerates the node.kubernetes.io/unschedulable:NoSchedule taint (as DaemonSet pods do).

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import { type CycleState, type FilterPlugin, type Status, SUCCESS, unresolvable } from "../framework/types.js";
import { tolerationTolerates } from "./taint-toleration.js";

export const NAME = "NodeUnschedulable";
export const ERR_REASON_UNSCHEDULABLE = "node(s) were unschedulable";
export const TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

export const nodeUnschedulable: FilterPlugin = {
  name: NAME,
  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    if (!nodeInfo.node?.spec?.unschedulable) return SUCCESS;
    const taint = { key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" };
    if ((pod.spec?.tolerations ?? []).some((t) => tolerationTolerates(t, taint))) return SUCCESS;
    return unresolvable(ERR_REASON_UNSCHEDULABLE);
  },
};
