// Fixtures for the scheduler's unit tests: compact builders for Pods, Nodes, claims, PVs and
// StorageClasses, and FakeVolumes, an in-memory VolumeBindingHandle.

import type { OwnerReference } from "#pkg/api/meta.js";
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type PodSpec,
  type StorageClass,
  type Taint,
} from "#pkg/api/types/index.js";
import { NodeInfo } from "./framework/node-info.js";
import type { VolumeBindingHandle } from "./plugins/volume-binding.js";

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

/** An in-memory cluster: every write bumps the object's resourceVersion and tells the listeners. */
export class FakeVolumes implements VolumeBindingHandle {
  readonly claims = new Map<string, PersistentVolumeClaim>();
  readonly pvs = new Map<string, PersistentVolume>();
  readonly classes = new Map<string, StorageClass>();
  readonly nodes = new Map<string, Node>();
  readonly deletedPods = new Set<string>();
  readonly writes: string[] = [];
  #rv = 100;
  readonly #listeners = new Set<() => void>();

  addNode(n: Node): void {
    this.nodes.set(n.metadata.name ?? "", n);
  }
  putClaim(c: PersistentVolumeClaim): PersistentVolumeClaim {
    const stored = structuredClone(c);
    stored.metadata.resourceVersion = String(++this.#rv);
    this.claims.set(`${c.metadata.namespace}/${c.metadata.name}`, stored);
    this.#changed();
    return stored;
  }
  putVolume(v: PersistentVolume): PersistentVolume {
    const stored = structuredClone(v);
    stored.metadata.resourceVersion = String(++this.#rv);
    this.pvs.set(v.metadata.name ?? "", stored);
    this.#changed();
    return stored;
  }
  #changed(): void {
    for (const l of [...this.#listeners]) l();
  }

  claim(namespace: string, name: string) {
    return this.claims.get(`${namespace}/${name}`);
  }
  volume(name: string) {
    return this.pvs.get(name);
  }
  volumes() {
    return [...this.pvs.values()];
  }
  storageClass(name: string) {
    return this.classes.get(name);
  }
  node(name: string) {
    return this.nodes.get(name);
  }
  podExists(namespace: string, name: string) {
    return !this.deletedPods.has(`${namespace}/${name}`);
  }
  async updateClaim(pvc: PersistentVolumeClaim) {
    this.writes.push(`pvc ${pvc.metadata.name} ${pvc.metadata.annotations?.[ANN_SELECTED_NODE] ?? ""}`);
    return this.putClaim(pvc);
  }
  async updateVolume(pv: PersistentVolume) {
    this.writes.push(`pv ${pv.metadata.name} ${pv.spec?.claimRef?.name ?? ""}`);
    return this.putVolume(pv);
  }
  onChange(listener: () => void) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** What the PV binder does once a claim can be bound: both sides, then bind-completed. */
  bind(claimName: string, pvName: string): void {
    const pvc = structuredClone(this.claims.get(`default/${claimName}`) as PersistentVolumeClaim);
    const pv = structuredClone(this.pvs.get(pvName) as PersistentVolume);
    pv.spec = { ...pv.spec, claimRef: { namespace: "default", name: claimName, uid: pvc.metadata.uid ?? "" } };
    pv.status = { phase: "Bound" };
    this.putVolume(pv);
    pvc.spec = { ...pvc.spec, volumeName: pvName };
    pvc.metadata.annotations = { ...pvc.metadata.annotations, [ANN_BIND_COMPLETED]: "yes" };
    pvc.status = { phase: "Bound" };
    this.putClaim(pvc);
  }
}

export function makeClaim(
  name: string,
  o: { class?: string; size?: string; volumeName?: string; bound?: boolean } = {},
) {
  const pvc: PersistentVolumeClaim = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: o.size ?? "1Gi" } },
      ...(o.class !== undefined ? { storageClassName: o.class } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
    status: { phase: o.bound ? "Bound" : "Pending" },
  };
  if (o.bound) pvc.metadata.annotations = { [ANN_BIND_COMPLETED]: "yes" };
  return pvc;
}

export function makeVolume(name: string, o: { node?: string; class?: string; size?: string; claim?: string } = {}) {
  const pv: PersistentVolume = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: o.size ?? "1Gi" },
      accessModes: ["ReadWriteOnce"],
      hostPath: { path: `/tmp/${name}` },
      ...(o.class !== undefined ? { storageClassName: o.class } : {}),
      ...(o.claim ? { claimRef: { namespace: "default", name: o.claim, uid: `uid-${o.claim}` } } : {}),
      ...(o.node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [o.node] }] },
                ],
              },
            },
          }
        : {}),
    },
    status: { phase: o.claim ? "Bound" : "Available" },
  };
  return pv;
}

export function makeStorageClass(
  name: string,
  o: { wffc?: boolean; provisioner?: string; zones?: string[] } = {},
): StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name },
    provisioner: o.provisioner ?? "rancher.io/local-path",
    volumeBindingMode: o.wffc ? "WaitForFirstConsumer" : "Immediate",
    ...(o.zones ? { allowedTopologies: [{ matchLabelExpressions: [{ key: "zone", values: o.zones }] }] } : {}),
  };
}

export function podWithClaims(name: string, ...claims: string[]): Pod {
  return makePod(name, {
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })),
    },
  });
}
