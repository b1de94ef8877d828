// Fixtures for the scheduler's unit tests: compact builders for Pods and Nodes.

import type { OwnerReference } from "#pkg/api/meta.js";
import type { Node, Pod, PodSpec, Taint } from "#pkg/api/types/index.js";
import { NodeInfo } from "./framework/node-info.js";

export interface PodOpts {
  ns?: string;
  cpu?: string;
  memory?: string;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  spec?: Partial<PodSpec>;
  owner?: string;
  created?: string;
  priority?: number;
  labels?: Record<string, string>;
}

export function makePod(name: string, o: PodOpts = {}): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const ownerReferences: OwnerReference[] | undefined = o.owner
    ? [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: o.owner, uid: `uid-${o.owner}`, controller: true }]
    : undefined;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.ns ?? "default",
      uid: `uid-${name}`,
      creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
      ...(o.labels ? { labels: o.labels } : {}),
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: {
      containers: [{ name: "c", image: "busybox", ...(o.cpu || o.memory ? { resources: { requests } } : {}) }],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...o.spec,
    },
  };
}

export interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

export function makeNode(name: string, o: NodeOpts = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: {
      ...(o.taints ? { taints: o.taints } : {}),
      ...(o.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110" },
      capacity: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110" },
      conditions: [{ type: "Ready", status: "True" }],
    },
  };
}

export function nodeInfo(node: Node, ...pods: Pod[]): NodeInfo {
  const n = new NodeInfo(node);
  for (const p of pods) n.addPod(p);
  return n;
}
