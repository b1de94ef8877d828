// NodeResourcesFit: the pod's requests must fit in the node's allocatable minus what the pods
// already there (bound or assumed) request, resource by resource, and the node's pod count
// must stay within allocatable "pods" (upstream noderesources/fit.go fitsRequest).

import type { Pod } from "#pkg/api/types/index.js";
import type { NodeInfo } from "../framework/node-info.js";
import { podRequests, type ResourceList } from "../framework/resources.js";
import { type CycleState, type FilterPlugin, type Status, SUCCESS, unschedulable } from "../framework/types.js";

export const NAME = "NodeResourcesFit";
const REQUESTS_KEY = `${NAME}/requests`;
const NAMES_KEY = `${NAME}/names`;

/** The order upstream checks (and reports) resources in; other resources follow by name. */
const ORDER = ["cpu", "memory", "ephemeral-storage"];

export function podRequestsOf(state: CycleState, pod: Pod): ResourceList {
  return state.memo(REQUESTS_KEY, () => podRequests(pod));
}

/** requestedNames: the resources the pod asks for, in the order upstream reports them. */
export function requestedNames(req: ResourceList): string[] {
  return Object.keys(req)
    .filter((k) => k !== "pods" && (req[k] ?? 0) > 0)
    .sort((a, b) => {
      const ia = ORDER.indexOf(a);
      const ib = ORDER.indexOf(b);
      return (ia < 0 ? ORDER.length : ia) - (ib < 0 ? ORDER.length : ib) || a.localeCompare(b);
    });
}

/** insufficientResources lists the upstream reasons ("Too many pods", "Insufficient cpu", ...). */
export function insufficientResources(req: ResourceList, nodeInfo: NodeInfo, names = requestedNames(req)): string[] {
  const reasons: string[] = [];
  const allowedPods = nodeInfo.allocatable.pods ?? 0;
  if (nodeInfo.pods.size + 1 > allowedPods) reasons.push("Too many pods");
  for (const name of names) {
    const want = req[name] ?? 0;
    const free = (nodeInfo.allocatable[name] ?? 0) - (nodeInfo.requested[name] ?? 0);
    if (want > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

export const nodeResourcesFit: FilterPlugin = {
  name: NAME,
  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): Status {
    const req = podRequestsOf(state, pod);
    const names = state.memo(NAMES_KEY, () => requestedNames(req));
    const reasons = insufficientResources(req, nodeInfo, names);
    return reasons.length === 0 ? SUCCESS : unschedulable(...reasons);
  },
};
