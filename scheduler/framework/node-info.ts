// NodeInfo: a node plus the pods the scheduler believes are on it (bound pods from the
// informer and assumed pods whose binding is in flight), with their summed requests and host
// ports kept up to date incrementally, as upstream's framework.NodeInfo.

import { keyOf } from "#pkg/api/keys.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { addResources, podRequests, type ResourceList, resourceList } from "./resources.js";

export interface HostPort {
  hostIP: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  pod: Pod;
  requests: ResourceList;
  nonZeroRequests: ResourceList;
  hostPorts: HostPort[];
  /** `namespace/uid` of the pod's controller, when it has one and is not terminating. */
  ownerKey: string | undefined;
}

/** ownerKeyOf: `namespace/uid` of the pod's controller ownerReference. */
export function ownerKeyOf(pod: Pod): string | undefined {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller === true);
  return owner ? `${pod.metadata.namespace ?? ""}/${owner.uid}` : undefined;
}

/** hostPortsOf lists the pod's container host ports (hostIP defaults to 0.0.0.0, protocol to TCP). */
export function hostPortsOf(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort) continue;
      out.push({ hostIP: p.hostIP || "0.0.0.0", protocol: p.protocol || "TCP", port: p.hostPort });
    }
  }
  return out;
}

export function newPodInfo(pod: Pod): PodInfo {
  return {
    pod,
    requests: podRequests(pod),
    nonZeroRequests: podRequests(pod, { nonZero: true }),
    hostPorts: hostPortsOf(pod),
    ownerKey: pod.metadata.deletionTimestamp ? undefined : ownerKeyOf(pod),
  };
}

export class NodeInfo {
  node: Node | undefined;
  readonly pods = new Map<string, PodInfo>();
  /** Sum of the pods' requests. */
  readonly requested: ResourceList = {};
  /** Sum of the pods' requests with defaults for request-less containers (scoring only). */
  readonly nonZeroRequested: ResourceList = {};
  allocatable: ResourceList = {};
  /** Live (not terminating) pods per controller, keyed `namespace/ownerUID`: what spreading counts. */
  readonly ownerCounts = new Map<string, number>();
  /** Bumped on every change; lets callers notice a stale snapshot. */
  generation = 0;

  constructor(node?: Node) {
    if (node) this.setNode(node);
  }

  get name(): string {
    return this.node?.metadata.name ?? "";
  }

  setNode(node: Node): void {
    this.node = node;
    this.allocatable = resourceList(node.status?.allocatable as Record<string, string> | undefined);
    this.generation++;
  }

  addPod(pod: Pod): void {
    const key = keyOf(pod);
    if (this.pods.has(key)) this.removePod(key);
    const info = newPodInfo(pod);
    this.pods.set(key, info);
    this.#countOwner(info, 1);
    addResources(this.requested, info.requests);
    addResources(this.nonZeroRequested, info.nonZeroRequests);
    this.generation++;
  }

  removePod(key: string): boolean {
    const info = this.pods.get(key);
    if (!info) return false;
    this.pods.delete(key);
    this.#countOwner(info, -1);
    addResources(this.requested, info.requests, -1);
    addResources(this.nonZeroRequested, info.nonZeroRequests, -1);
    this.generation++;
    return true;
  }

  #countOwner(info: PodInfo, delta: number): void {
    if (!info.ownerKey) return;
    const n = (this.ownerCounts.get(info.ownerKey) ?? 0) + delta;
    if (n > 0) this.ownerCounts.set(info.ownerKey, n);
    else this.ownerCounts.delete(info.ownerKey);
  }

  /** usedPorts iterates the host ports of every pod on the node. */
  *usedPorts(): Iterable<HostPort> {
    for (const p of this.pods.values()) yield* p.hostPorts;
  }
}
