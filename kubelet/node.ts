// NodeManager: registers this kubelet's Node, keeps its status (Ready condition, capacity,
// addresses, nodeInfo) fresh, and renews its Lease in kube-node-lease every 10 s, the heartbeat
// the node lifecycle controller watches (upstream: kubelet_node_status.go + nodelease).

import { readFileSync } from "node:fs";
import os from "node:os";
import { isAlreadyExists, isConflict, isNotFound } from "#pkg/api/errors.js";
import { LEASES, NODES } from "#pkg/api/resources.js";
import { metaTime, microTime } from "#pkg/api/time.js";
import type { Lease, Node, NodeCondition, NodeStatus, Taint } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { exponentialBackoff, until } from "#pkg/runtime/wait.js";

export const KUBELET_VERSION = "v1.33.0-kubeling";
export const LEASE_NAMESPACE = "kube-node-lease";

export interface NodeOptions {
  client: ApiClient;
  log: Logger;
  nodeName: string;
  nodeIP: string;
  port: number;
  labels: Record<string, string>;
  /** Annotations kept on the Node (set at registration, restored when adopting it). */
  annotations?: Record<string, string>;
  taints: Taint[];
  capacityCpu?: string;
  capacityMemory?: string;
  maxPods: number;
  runtimeVersion: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  statusIntervalMs?: number;
  clock?: Clock;
}

/** parseNodeLabels: "a=b,c=d" → { a: "b", c: "d" }. */
export function parseNodeLabels(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`invalid node label "${part}" (want key=value)`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** parseTaints: "k=v:NoSchedule,k2:NoExecute" → Taint[]. */
export function parseTaints(s: string | undefined): Taint[] {
  const out: Taint[] = [];
  for (const part of (s ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)) {
    const colon = part.lastIndexOf(":");
    if (colon <= 0) throw new Error(`invalid taint "${part}" (want key[=value]:Effect)`);
    const effect = part.slice(colon + 1);
    if (!["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect))
      throw new Error(`invalid taint effect "${effect}"`);
    const kv = part.slice(0, colon);
    const eq = kv.indexOf("=");
    out.push(eq >= 0 ? { key: kv.slice(0, eq), value: kv.slice(eq + 1), effect } : { key: kv, effect });
  }
  return out;
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m?.[1]) return m[1];
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

function goArch(): string {
  const a = os.arch();
  return a === "x64" ? "amd64" : a === "ia32" ? "386" : a;
}

/** defaultNodeIP: the first non-internal IPv4 address of the host, else 127.0.0.1. */
export function defaultNodeIP(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  return "127.0.0.1";
}

export class NodeManager {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readyTransition: string;
  private readonly bootID = (() => {
    try {
      return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      return "";
    }
  })();

  constructor(private readonly o: NodeOptions) {
    this.log = o.log.child({ node: o.nodeName });
    this.clock = o.clock ?? realClock;
    this.readyTransition = metaTime(this.clock.now());
  }

  private now(): string {
    return metaTime(this.clock.now());
  }

  desiredStatus(): NodeStatus {
    const cpu = this.o.capacityCpu ?? String(os.cpus().length);
    const memory = this.o.capacityMemory ?? `${Math.floor(os.totalmem() / 1024)}Ki`;
    const capacity = { cpu, memory, pods: String(this.o.maxPods), "ephemeral-storage": "100Gi" };
    const now = this.now();
    const ready: NodeCondition = {
      type: "Ready",
      status: "True",
      lastHeartbeatTime: now,
      lastTransitionTime: this.readyTransition,
      reason: "KubeletReady",
      message: "kubelet is posting ready status",
    };
    const pressure = (type: string, reason: string, message: string): NodeCondition => ({
      type,
      status: "False",
      lastHeartbeatTime: now,
      lastTransitionTime: this.readyTransition,
      reason,
      message,
    });
    return {
      capacity,
      allocatable: { ...capacity },
      phase: "Running",
      conditions: [
        pressure("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        pressure("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        pressure("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ready,
      ],
      addresses: [
        { type: "InternalIP", address: this.o.nodeIP },
        { type: "Hostname", address: this.o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.o.port } },
      nodeInfo: {
        machineID: "",
        systemUUID: "",
        bootID: this.bootID,
        kernelVersion: os.release(),
        osImage: osImage(),
        containerRuntimeVersion: this.o.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: "",
        operatingSystem: os.platform(),
        architecture: goArch(),
      },
    };
  }

  /** register creates the Node (or adopts an existing one, refreshing its labels). */
  async register(): Promise<Node> {
    const labels = {
      "kubernetes.io/hostname": this.o.nodeName,
      "kubernetes.io/os": os.platform(),
      "kubernetes.io/arch": goArch(),
      "beta.kubernetes.io/os": os.platform(),
      "beta.kubernetes.io/arch": goArch(),
      ...this.o.labels,
    };
    const node: Node = {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: this.o.nodeName, labels, ...(this.o.annotations ? { annotations: this.o.annotations } : {}) },
      spec: this.o.taints.length > 0 ? { taints: this.o.taints } : {},
    };
    try {
      const created = await this.o.client.create(NODES, undefined, node);
      this.log.info("registered node");
      await this.updateStatus();
      return created;
    } catch (err) {
      if (!isAlreadyExists(err))
        throw new Error(`registering node ${this.o.nodeName}: ${(err as Error).message}`, { cause: err });
    }
    // Existing node: upstream reconciles a few labels; we make sure ours are present. Its taints
    // stay as they are (--register-with-taints is for registration only, and NodeRestriction
    // refuses a kubelet's change of its own taints).
    for (let i = 0; ; i++) {
      const cur = await this.o.client.get(NODES, undefined, this.o.nodeName);
      const merged = {
        ...cur,
        metadata: {
          ...cur.metadata,
          labels: { ...(cur.metadata.labels ?? {}), ...labels },
          ...(this.o.annotations
            ? { annotations: { ...(cur.metadata.annotations ?? {}), ...this.o.annotations } }
            : {}),
        },
      };
      try {
        await this.o.client.update(NODES, undefined, merged);
        break;
      } catch (err) {
        if (!isConflict(err) || i > 5) throw err;
      }
    }
    this.log.info("node already registered; adopted it");
    await this.updateStatus();
    return this.o.client.get(NODES, undefined, this.o.nodeName);
  }

  /** updateStatus writes the node status (heartbeat included), retrying conflicts. */
  async updateStatus(): Promise<void> {
    for (let i = 0; ; i++) {
      const cur = await this.o.client.get(NODES, undefined, this.o.nodeName);
      // The node lifecycle controller set Ready=Unknown while we were not heard from: Ready
      // again is a transition (upstream's setters compare with the node as stored).
      const stored = cur.status?.conditions?.find((c) => c.type === "Ready");
      if (stored && stored.status !== "True") this.readyTransition = this.now();
      const desired = this.desiredStatus();
      const status: NodeStatus = { ...(cur.status ?? {}), ...desired };
      try {
        await this.o.client.update(NODES, undefined, { ...cur, status }, { subresource: "status" });
        return;
      } catch (err) {
        if (!isConflict(err) || i > 5) throw err;
      }
    }
  }

  /** renewLease creates or renews kube-node-lease/<node>. */
  async renewLease(nodeUid?: string): Promise<void> {
    const r = LEASES;
    const now = microTime(this.clock.now());
    const spec = {
      holderIdentity: this.o.nodeName,
      leaseDurationSeconds: this.o.leaseDurationSeconds ?? 40,
      renewTime: now,
    };
    try {
      const cur = await this.o.client.get<Lease>(r, LEASE_NAMESPACE, this.o.nodeName);
      await this.o.client.update<Lease>(r, LEASE_NAMESPACE, { ...cur, spec: { ...(cur.spec ?? {}), ...spec } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const lease: Lease = {
        apiVersion: "coordination.k8s.io/v1",
        kind: "Lease",
        metadata: {
          name: this.o.nodeName,
          namespace: LEASE_NAMESPACE,
          ...(nodeUid
            ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.o.nodeName, uid: nodeUid }] }
            : {}),
        },
        spec: { ...spec, acquireTime: now },
      };
      await this.o.client.create<Lease>(r, LEASE_NAMESPACE, lease);
    }
  }

  /** run registers the node, then keeps the lease and status fresh until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let node: Node | undefined;
    await exponentialBackoff(
      async () => {
        try {
          node = await this.register();
          return true;
        } catch (err) {
          this.log.warn({ err }, "node registration failed; retrying");
          return false;
        }
      },
      new Backoff(1000, 10_000, this.clock),
      signal,
      { clock: this.clock },
    );
    const renewMs = this.o.renewIntervalMs ?? 10_000;
    const statusMs = this.o.statusIntervalMs ?? 10_000;
    let nextStatus = this.clock.now() + statusMs;
    await until(
      async () => {
        try {
          await this.renewLease(node?.metadata.uid);
        } catch (err) {
          this.log.warn({ err }, "renewing node lease failed");
        }
        if (this.clock.now() < nextStatus) return;
        nextStatus = this.clock.now() + statusMs;
        try {
          await this.updateStatus();
        } catch (err) {
          if (isNotFound(err)) {
            // The node object was deleted: register again (upstream does the same).
            node = await this.register().catch(() => undefined);
          } else this.log.warn({ err }, "updating node status failed");
        }
      },
      Math.min(renewMs, statusMs),
      signal,
      { clock: this.clock },
    );
  }
}
