// NodePorts: two pods cannot hold the same host port on a node, per protocol; a hostIP of
// 0.0.0.0 conflicts with every address (upstream HostPortInfo.CheckConflict).

import type { Pod } from "#pkg/api/types/index.js";
import { type HostPort, hostPortsOf, type NodeInfo } from "../framework/node-info.js";
import { type CycleState, type FilterPlugin, type Status, SUCCESS, unschedulable } from "../framework/types.js";

export const NAME = "NodePorts";
const PORTS_KEY = `${NAME}/ports`;
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";

export function portsConflict(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port || a.protocol !== b.protocol) return false;
  return a.hostIP === b.hostIP || a.hostIP === "0.0.0.0" || b.hostIP === "0.0.0.0";
}

export const nodePorts: FilterPlugin = {
  name: NAME,
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const wanted = state.memo(PORTS_KEY, () => hostPortsOf(pod));
    if (wanted.length === 0) return SUCCESS;
    for (const used of nodeInfo.usedPorts()) {
      if (wanted.some((w) => portsConflict(w, used))) return unschedulable(ERR_REASON);
    }
    return SUCCESS;
  },
};
