// The node lifecycle controller (upstream pkg/controller/nodelifecycle/node_lifecycle_controller.go).
// Every --node-monitor-period it looks at each Node's heartbeat (its Lease in kube-node-lease and
// its Ready condition, node-health.ts): a node not heard from within --node-monitor-grace-period
// (--node-startup-grace-period before its kubelet first posted status) gets its conditions set
// to Unknown, its pods marked not Ready, and a NodeNotReady event. A node whose Ready is False or
// Unknown is queued for the NoExecute taint not-ready or unreachable; the queues (one per zone)
// are drained at --node-eviction-rate, slower or not at all when a zone (or every zone) is
// disrupted, so that a control-plane partition does not empty the cluster. The taint eviction
// controller then evicts the pods that do not tolerate the taint. A healthy node is untainted.
// Separately, every Node change re-derives its NoSchedule condition taints (TaintNodesByCondition).

import { isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf } from "#pkg/api/keys.js";
import { LEASES, NODES, PODS } from "#pkg/api/resources.js";
import { taintExists } from "#pkg/api/taints.js";
import { metaTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Node, NodeCondition, Pod } from "#pkg/api/types/core.js";
import { type Informer, objectOf } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { removeTaintsOffNode, swapNodeControllerTaints } from "#pkg/controller/node-taints.js";
import { updatePodCondition } from "#pkg/controller/pod-util.js";
import { podsAssignedToNode } from "#pkg/controller/pods-by-node.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Counter, Gauge, type Registry } from "#pkg/runtime/metrics.js";
import { until } from "#pkg/runtime/wait.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import {
  computeZoneState,
  excludedFromDisruptionChecks,
  getNodeCondition,
  heartbeatStale,
  markConditionsUnknown,
  NODE_READY,
  NOT_READY_TAINT,
  type NodeHealth,
  nextNodeHealth,
  noExecuteTaintFor,
  noScheduleTaintsDiff,
  observedReadyCondition,
  sameCondition,
  UNREACHABLE_TAINT,
  type ZoneState,
  zoneKey,
} from "./node-health.js";
import { RateLimitedTimedQueue, type TryResult } from "./rate-limited-queue.js";

export const NODE_LEASE_NAMESPACE = "kube-node-lease";

/** Upstream defaults (cmd/kube-controller-manager options). */
export const DEFAULT_NODE_MONITOR_PERIOD_MS = 5_000;
// 50s since 1.32 (40s before).
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 50_000;
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
export const DEFAULT_NODE_EVICTION_RATE = 0.1;
export const DEFAULT_SECONDARY_NODE_EVICTION_RATE = 0.01;
export const DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD = 50;
export const DEFAULT_UNHEALTHY_ZONE_THRESHOLD = 0.55;

/** NodeEvictionPeriod: how often the taint queues are drained. */
const NODE_EVICTION_PERIOD_MS = 100;
/** NodeHealthUpdateRetry, retrySleepTime. */
const NODE_HEALTH_UPDATE_RETRY = 5;
const RETRY_SLEEP_MS = 20;
/** nodeUpdateWorkerSize, podUpdateWorkerSize. */
const NODE_UPDATE_WORKERS = 8;
const POD_UPDATE_WORKERS = 4;

export interface NodeLifecycleOptions {
  nodeMonitorPeriodMs?: number;
  nodeMonitorGracePeriodMs?: number;
  nodeStartupGracePeriodMs?: number;
  /** Nodes tainted per second (upstream --node-eviction-rate). */
  nodeEvictionRate?: number;
  /** The rate in a partially disrupted zone of a large cluster (--secondary-node-eviction-rate). */
  secondaryNodeEvictionRate?: number;
  /** Zones of at most this many nodes stop tainting when partially disrupted (--large-cluster-size-threshold). */
  largeClusterSizeThreshold?: number;
  /** Fraction of not-Ready nodes (at least 3) that makes a zone partially disrupted (--unhealthy-zone-threshold). */
  unhealthyZoneThreshold?: number;
}

type Required_ = Required<NodeLifecycleOptions>;

function withDefaults(o: NodeLifecycleOptions = {}): Required_ {
  return {
    nodeMonitorPeriodMs: o.nodeMonitorPeriodMs ?? DEFAULT_NODE_MONITOR_PERIOD_MS,
    nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
    nodeStartupGracePeriodMs: o.nodeStartupGracePeriodMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS,
    nodeEvictionRate: o.nodeEvictionRate ?? DEFAULT_NODE_EVICTION_RATE,
    secondaryNodeEvictionRate: o.secondaryNodeEvictionRate ?? DEFAULT_SECONDARY_NODE_EVICTION_RATE,
    largeClusterSizeThreshold: o.largeClusterSizeThreshold ?? DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD,
    unhealthyZoneThreshold: o.unhealthyZoneThreshold ?? DEFAULT_UNHEALTHY_ZONE_THRESHOLD,
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A metric of this name in the registry is replaced: the newest controller (leadership term) owns it. */
function fresh<M extends Counter<string> | Gauge<string>>(registry: Registry, name: string, make: () => M): M {
  registry.removeSingleMetric(name);
  return make();
}

/** The object references of upstream's RecordNodeEvent / RecordNodeStatusChange. */
function nodeRef(node: Node): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name: node.metadata.name ?? "", uid: node.metadata.uid ?? "" } };
}

function podRef(pod: Pod): Pod {
  const { name, namespace, uid } = pod.metadata;
  return { apiVersion: "v1", kind: "Pod", metadata: { name: name ?? "", namespace: namespace ?? "", uid: uid ?? "" } };
}

export class NodeLifecycleController implements Controller {
  readonly name = "nodelifecycle";
  /** Nodes whose NoSchedule condition taints are to be reconciled (upstream nodeUpdateQueue). */
  readonly nodeQueue: WorkQueue;
  /** Pods newly bound to a node, to be marked not Ready if it is not (upstream podUpdateQueue). */
  readonly podQueue: WorkQueue;
  readonly #o: Required_;
  readonly #client: ApiClient;
  readonly #nodes: Informer<Node>;
  readonly #leases: Informer<Lease>;
  readonly #pods: Informer<Pod>;
  readonly #podsOnNode: (nodeName: string) => Pod[];
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #health = new Map<string, NodeHealth>();
  /** knownNodeSet: nodes the monitor has seen (RegisteredNode / RemovingNode). */
  readonly #known = new Map<string, Node>();
  readonly #zoneStates = new Map<string, ZoneState>();
  readonly #zoneTainters = new Map<string, RateLimitedTimedQueue>();
  /** Nodes whose pods could not all be marked not Ready: tried again on the next pass. */
  readonly #nodesToRetry = new Set<string>();
  readonly #evictions: Counter<"zone">;
  readonly #zoneSize: Gauge<"zone">;
  readonly #zoneHealth: Gauge<"zone">;
  readonly #unhealthyNodes: Gauge<"zone">;

  constructor(ctx: ControllerContext, o: NodeLifecycleOptions = {}) {
    this.#o = withDefaults(o);
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("node-controller");
    this.nodeQueue = new WorkQueue({ name: "node_lifecycle_controller", clock: ctx.clock });
    this.podQueue = new WorkQueue({ name: "node_lifecycle_controller_pods", clock: ctx.clock });
    this.#nodes = ctx.informers.informer(NODES);
    this.#leases = ctx.informers.informer(LEASES, { namespace: NODE_LEASE_NAMESPACE });
    this.#pods = ctx.informers.informer(PODS);
    this.#podsOnNode = podsAssignedToNode(this.#pods);

    const registry = ctx.metrics;
    this.#evictions = fresh(
      registry,
      "node_collector_evictions_total",
      () =>
        new Counter({
          name: "node_collector_evictions_total",
          help: "Number of Node evictions that happened since current instance of NodeController started.",
          labelNames: ["zone"],
          registers: [registry],
        }),
    );
    const zoneGauge = (name: string, help: string) =>
      fresh(registry, name, () => new Gauge({ name, help, labelNames: ["zone"], registers: [registry] }));
    this.#zoneSize = zoneGauge("node_collector_zone_size", "Gauge measuring number of registered Nodes per zones.");
    this.#zoneHealth = zoneGauge("node_collector_zone_health", "Gauge measuring percentage of healthy nodes per zone.");
    this.#unhealthyNodes = zoneGauge(
      "node_collector_unhealthy_nodes_in_zone",
      "Gauge measuring number of not Ready Nodes per zones.",
    );

    this.#pods.on("add", (pod) => this.#podUpdated(undefined, pod));
    this.#pods.on("update", (old, cur) => this.#podUpdated(old, cur));
    this.#nodes.on("add", (node) => this.nodeQueue.add(keyOf(node)));
    this.#nodes.on("update", (_old, cur) => this.nodeQueue.add(keyOf(cur)));
    this.#nodes.on("delete", (obj) => this.#nodesToRetry.delete(keyOf(objectOf(obj))));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ ...this.#o }, "starting node lifecycle controller");
    if (!(await waitForCacheSync(signal, this.#nodes, this.#leases, this.#pods))) return;
    const onError = (what: string) => (err: unknown) => this.#log.error({ err }, what);
    await Promise.all([
      runWorkers(
        this.nodeQueue,
        Math.min(workers, NODE_UPDATE_WORKERS),
        (key) => this.syncNoScheduleTaints(key),
        signal,
        this.#log,
      ),
      runWorkers(
        this.podQueue,
        Math.min(workers, POD_UPDATE_WORKERS),
        (key) => this.processPod(key),
        signal,
        this.#log,
      ),
      until(() => this.doNoExecuteTaintingPass(), NODE_EVICTION_PERIOD_MS, signal, {
        clock: this.#clock,
        onError: onError("tainting nodes failed"),
      }),
      until(() => this.monitorNodeHealth(), this.#o.nodeMonitorPeriodMs, signal, {
        clock: this.#clock,
        onError: onError("monitoring node health failed"),
      }),
    ]);
  }

  #podUpdated(old: Pod | undefined, cur: Pod): void {
    const node = cur.spec?.nodeName;
    if (node && node !== old?.spec?.nodeName) this.podQueue.add(keyOf(cur));
  }

  #zoneTainter(node: Node): RateLimitedTimedQueue {
    const zone = zoneKey(node);
    this.#addZone(zone);
    return this.#zoneTainters.get(zone) as RateLimitedTimedQueue;
  }

  /** addPodEvictorForNewZone. */
  #addZone(zone: string): void {
    if (this.#zoneStates.has(zone)) return;
    this.#zoneStates.set(zone, "Initial");
    this.#zoneTainters.set(zone, new RateLimitedTimedQueue(this.#o.nodeEvictionRate, this.#clock));
    this.#evictions.inc({ zone }, 0);
    this.#log.info({ zone }, "initializing eviction metric for zone");
  }

  /** The nodes queued for a NoExecute taint (for tests). */
  waitingForTaint(): string[] {
    return [...this.#zoneTainters.values()].flatMap((q) => q.waiting());
  }

  zoneState(zone = ""): ZoneState | undefined {
    return this.#zoneStates.get(zone);
  }

  /**
   * syncNoScheduleTaints (upstream doNoScheduleTaintingPass): the node's NoSchedule condition
   * taints (not-ready, unreachable, memory-pressure, ..., unschedulable) follow its conditions.
   */
  async syncNoScheduleTaints(key: string): Promise<void> {
    const node = this.#nodes.get(key);
    if (!node) return;
    const { add, remove } = noScheduleTaintsDiff(node);
    if (add.length === 0 && remove.length === 0) return;
    await swapNodeControllerTaints(this.#client, node, add, remove, this.#clock.now());
  }

  /**
   * monitorNodeHealth: one pass over every node (upstream monitorNodeHealth): registers new
   * nodes, updates stale ones to Unknown, queues not-Ready ones for tainting (or untaints healthy
   * ones), marks the pods of newly not-Ready nodes not Ready, and sets the zones' tainting rates.
   */
  async monitorNodeHealth(): Promise<void> {
    const nodes = this.#nodes.list();
    const names = new Set(nodes.map((n) => n.metadata.name ?? ""));
    for (const node of nodes) {
      const name = node.metadata.name ?? "";
      if (this.#known.has(name)) {
        this.#addZone(zoneKey(node));
        continue;
      }
      this.#log.info({ node: name }, "controller observed a new Node");
      this.#nodeEvent(node, "Normal", "RegisteredNode", `Registered Node ${name} in Controller`);
      this.#known.set(name, node);
      this.#addZone(zoneKey(node));
      await this.#markNodeAsReachable(node).catch((err: unknown) =>
        this.#log.warn({ err, node: name }, "cannot remove taints from node"),
      );
    }
    for (const [name, node] of this.#known) {
      if (names.has(name)) continue;
      this.#log.info({ node: name }, "controller observed a Node deletion");
      this.#nodeEvent(node, "Normal", "RemovingNode", `Removing Node ${name} from Controller`);
      this.#known.delete(name);
      this.#health.delete(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    await forEachLimit(nodes, NODE_UPDATE_WORKERS, async (cached) => {
      const result = await this.#updateNodeHealthWithRetries(cached);
      if (!result) return;
      const { node, observed, current } = result;
      const name = node.metadata.name ?? "";
      if (!excludedFromDisruptionChecks(node)) {
        const zone = zoneKey(node);
        const list = zoneConditions.get(zone) ?? [];
        list.push(current);
        zoneConditions.set(zone, list);
      }
      if (current) {
        const pods = this.#podsOnNode(name);
        await this.#processTaintBaseEviction(node, observed);
        const becameNotReady = current.status !== "True" && observed.status === "True";
        if (becameNotReady) this.#nodeStatusChange(node, "NodeNotReady");
        if (becameNotReady || (this.#nodesToRetry.has(name) && observed.status !== "True")) {
          try {
            await this.markPodsNotReady(pods, name);
          } catch (err) {
            this.#log.warn({ err, node: name }, "cannot mark all pods NotReady on node; retrying next pass");
            this.#nodesToRetry.add(name);
            return;
          }
        }
      }
      this.#nodesToRetry.delete(name);
    });
    await this.#handleDisruption(zoneConditions, nodes);
  }

  /** tryUpdateNodeHealth, retried with a fresh read of the node (upstream: 5 tries 20 ms apart). */
  async #updateNodeHealthWithRetries(
    cached: Node,
  ): Promise<{ node: Node; observed: NodeCondition; current: NodeCondition | undefined } | undefined> {
    let node = cached;
    const name = cached.metadata.name ?? "";
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await this.#tryUpdateNodeHealth(node);
        return { node: r.node, observed: r.observed, current: r.current };
      } catch (err) {
        if (attempt >= NODE_HEALTH_UPDATE_RETRY) {
          this.#log.error(
            { err, node: name },
            "update health of Node from Controller error, skipping - no pods will be evicted",
          );
          return undefined;
        }
      }
      await this.#clock.sleep(RETRY_SLEEP_MS);
      try {
        node = await this.#client.get(NODES, undefined, name);
      } catch (err) {
        this.#log.error(
          { err, node: name },
          "failed while getting a Node to retry updating node health; probably Node was deleted",
        );
        return undefined;
      }
    }
  }

  /**
   * tryUpdateNodeHealth: the node's health bookkeeping (nextNodeHealth), and the Unknown status
   * write when its heartbeat is older than its grace period. Returns the Ready condition as the
   * kubelet left it (observed) and as it is now (current).
   */
  async #tryUpdateNodeHealth(
    node: Node,
  ): Promise<{ node: Node; observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = node.metadata.name ?? "";
    const now = this.#clock.now();
    const {
      condition: observed,
      present,
      gracePeriodMs,
    } = observedReadyCondition(node, {
      gracePeriodMs: this.#o.nodeMonitorGracePeriodMs,
      startupGracePeriodMs: this.#o.nodeStartupGracePeriodMs,
    });
    const lease = this.#leases.get(keyFor(NODE_LEASE_NAMESPACE, name));
    const health = nextNodeHealth(this.#health.get(name), node, lease, now);
    this.#health.set(name, health);
    let current = present ? getNodeCondition(node.status, NODE_READY) : undefined;
    if (!heartbeatStale(health, gracePeriodMs, now)) return { node, observed, current };

    const updated = markConditionsUnknown(node, now);
    current = getNodeCondition(updated.status, NODE_READY);
    if (sameCondition(current, observed)) return { node, observed, current };
    this.#log.info(
      { node: name, sinceHeartbeatMs: now - health.probeTimestamp },
      "node has not been heard from within its grace period: conditions set to Unknown",
    );
    const written = await this.#client.update(NODES, undefined, updated, { subresource: "status" });
    this.#health.set(name, {
      probeTimestamp: health.probeTimestamp,
      readyTransitionTimestamp: now,
      ...(current ? { readyCondition: { ...current } } : {}),
      ...(lease?.spec?.renewTime ? { leaseRenewTime: lease.spec.renewTime } : {}),
    });
    return { node: written, observed, current };
  }

  /** processTaintBaseEviction: queue a not-Ready node for its NoExecute taint, or untaint a Ready one. */
  async #processTaintBaseEviction(node: Node, observed: NodeCondition): Promise<void> {
    const name = node.metadata.name ?? "";
    const taints = node.spec?.taints;
    const want = noExecuteTaintFor(observed.status);
    if (want) {
      // Already tainted with the opposite one: swap at once, no need to wait for the queue.
      if (taintExists(taints, want.remove)) {
        await swapNodeControllerTaints(this.#client, node, [want.add], [want.remove], this.#clock.now()).catch(
          (err: unknown) => this.#log.warn({ err, node: name }, "cannot swap NoExecute taints; trying again next pass"),
        );
      } else if (this.#markNodeForTainting(node, observed.status)) {
        this.#log.info({ node: name, ready: observed.status }, "node is not Ready; adding it to the taint queue");
      }
      return;
    }
    if (observed.status === "True") {
      try {
        if (await this.#markNodeAsReachable(node))
          this.#log.info({ node: name }, "node is healthy again, removed all taints");
      } catch (err) {
        this.#log.warn({ err, node: name }, "cannot remove taints from node; trying again next pass");
      }
    }
  }

  #markNodeForTainting(node: Node, status: string): boolean {
    const tainter = this.#zoneTainter(node);
    const name = node.metadata.name ?? "";
    // A node whose taint went away (removed by hand) is queued afresh.
    if (status === "False" && !taintExists(node.spec?.taints, NOT_READY_TAINT)) tainter.remove(name);
    if (status === "Unknown" && !taintExists(node.spec?.taints, UNREACHABLE_TAINT)) tainter.remove(name);
    return tainter.add(name, node.metadata.uid ?? "");
  }

  /** markNodeAsReachable: both NoExecute taints off, and out of the taint queue. */
  async #markNodeAsReachable(node: Node): Promise<boolean> {
    await removeTaintsOffNode(this.#client, node, [UNREACHABLE_TAINT, NOT_READY_TAINT]);
    return this.#zoneTainter(node).remove(node.metadata.name ?? "");
  }

  /**
   * doNoExecuteTaintingPass: drains the zones' taint queues at their rates, tainting each node
   * with unreachable or not-ready as its Ready condition now says (and removing the other one).
   */
  async doNoExecuteTaintingPass(): Promise<void> {
    for (const [zone, tainter] of [...this.#zoneTainters]) {
      await tainter.try(async ({ value }): Promise<TryResult> => {
        const node = this.#nodes.get(value);
        if (!node) return { done: true };
        const ready = getNodeCondition(node.status, NODE_READY);
        if (!ready) return { done: false, retryAfterMs: 50 };
        const want = noExecuteTaintFor(ready.status);
        if (!want) return { done: true }; // Ready again: nothing to taint.
        try {
          await swapNodeControllerTaints(this.#client, node, [want.add], [want.remove], this.#clock.now());
        } catch (err) {
          this.#log.warn({ err, node: value, taint: want.add.key }, "cannot taint node; retrying");
          return { done: false, retryAfterMs: 0 };
        }
        this.#log.info({ node: value, taint: `${want.add.key}:${want.add.effect}` }, "tainted node");
        this.#evictions.inc({ zone });
        return { done: true };
      });
    }
  }

  /**
   * handleDisruption: each zone's tainting rate follows its state (Normal and FullDisruption:
   * --node-eviction-rate; PartialDisruption: the secondary rate in a large zone, else none).
   * When every zone is fully disrupted that looks like the controller's own partition rather than
   * dead nodes: every node is untainted and none is tainted until some node is Ready again.
   */
  async #handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: Node[]): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conds] of zoneConditions) {
      const { unhealthy, state } = computeZoneState(conds, this.#o.unhealthyZoneThreshold);
      this.#zoneSize.set({ zone }, conds.length);
      this.#zoneHealth.set({ zone }, (100 * (conds.length - unhealthy)) / conds.length);
      this.#unhealthyNodes.set({ zone }, unhealthy);
      if (state !== "FullDisruption") allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.#zoneStates.has(zone)) this.#addZone(zone);
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of this.#zoneStates) {
      if (!zoneConditions.has(zone)) {
        this.#zoneSize.set({ zone }, 0);
        this.#zoneHealth.set({ zone }, 100);
        this.#unhealthyNodes.set({ zone }, 0);
        this.#zoneStates.delete(zone);
        continue;
      }
      if (state !== "FullDisruption") {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.#log.info("controller detected that all Nodes are not-Ready; entering master disruption mode");
      for (const node of nodes) {
        await this.#markNodeAsReachable(node).catch((err: unknown) =>
          this.#log.warn({ err, node: node.metadata.name }, "cannot remove taints from node"),
        );
      }
      for (const zone of this.#zoneStates.keys()) {
        this.#zoneTainters.get(zone)?.swapLimiter(0);
        this.#zoneStates.set(zone, "FullDisruption");
      }
      return;
    }
    if (allWasFullyDisrupted) {
      this.#log.info("controller detected that some Nodes are Ready; exiting master disruption mode");
      // Every node gets a fresh grace period: their heartbeats may not have been seen for a while.
      const now = this.#clock.now();
      for (const node of nodes) {
        const h = this.#health.get(node.metadata.name ?? "");
        if (h) {
          h.probeTimestamp = now;
          h.readyTransitionTimestamp = now;
        }
      }
      for (const zone of [...this.#zoneStates.keys()]) {
        const state = newStates.get(zone) ?? "Normal";
        this.#setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, state);
        this.#zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of [...this.#zoneStates]) {
      const next = newStates.get(zone);
      if (!next || next === state) continue;
      this.#log.info({ zone, state: next }, "controller detected that zone is now in new state");
      this.#setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.#zoneStates.set(zone, next);
    }
  }

  #setLimiterInZone(zone: string, size: number, state: ZoneState): void {
    const tainter = this.#zoneTainters.get(zone);
    if (!tainter) return;
    if (state === "Normal" || state === "FullDisruption") tainter.swapLimiter(this.#o.nodeEvictionRate);
    else if (state === "PartialDisruption")
      tainter.swapLimiter(size > this.#o.largeClusterSizeThreshold ? this.#o.secondaryNodeEvictionRate : 0);
  }

  /**
   * markPodsNotReady (upstream util/node MarkPodsNotReady): the Ready condition of each pod on the
   * node goes False (its kubelet cannot say so any more), with a NodeNotReady event on the pod.
   */
  async markPodsNotReady(pods: readonly Pod[], nodeName: string): Promise<void> {
    const errors: unknown[] = [];
    for (const cached of pods) {
      if (cached.spec?.nodeName !== nodeName) continue;
      const ready = cached.status?.conditions?.find((c) => c.type === "Ready");
      if (!ready) continue;
      const pod = structuredClone(cached);
      pod.status ??= {};
      if (!updatePodCondition(pod.status, { ...ready, status: "False" }, metaTime(this.#clock.now()))) continue;
      try {
        await this.#client.update(PODS, pod.metadata.namespace, pod, { subresource: "status" });
      } catch (err) {
        if (isNotFound(err)) continue;
        this.#log.info({ err, pod: keyOf(pod) }, "failed to update status for pod");
        errors.push(err);
        continue;
      }
      this.#recorder.event(podRef(pod), "Warning", "NodeNotReady", "Node is not ready");
    }
    if (errors.length > 0) throw new Error(errors.map(errorMessage).join("; "), { cause: errors[0] });
  }

  /**
   * processPod: a pod bound to a node that is not Ready (as last seen) is marked not Ready at once,
   * without waiting for the next monitor pass.
   */
  async processPod(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName ?? "";
    const health = this.#health.get(nodeName);
    if (!health) return; // not seen yet, or deleted meanwhile
    if (!this.#nodes.get(nodeName)) throw new Error(`node ${nodeName} of pod ${key} is not in the cache`);
    const ready = health.readyCondition;
    if (!ready || ready.status === "True") return;
    await this.markPodsNotReady([pod], nodeName);
  }

  #nodeEvent(node: Node, type: "Normal" | "Warning", reason: string, event: string): void {
    const name = node.metadata.name ?? "";
    this.#recorder.event(nodeRef(node), type, reason, `Node ${name} event: ${event}`);
  }

  /** RecordNodeStatusChange. */
  #nodeStatusChange(node: Node, status: string): void {
    const name = node.metadata.name ?? "";
    this.#log.info({ node: name, status }, "recording status change event for node");
    this.#recorder.event(nodeRef(node), "Normal", status, `Node ${name} status is now: ${status}`);
  }
}

/** Runs fn over items with at most `limit` in flight (upstream workqueue.ParallelizeUntil). */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const newNodeLifecycleController: ControllerInit = (ctx) =>
  new NodeLifecycleController(ctx, ctx.options?.nodeLifecycle);
