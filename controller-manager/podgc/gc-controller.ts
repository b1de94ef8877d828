// The pod garbage collector (upstream pkg/controller/podgc/gc_controller.go), every 20 s:
// - terminated pods (Succeeded, Failed) beyond --terminated-pod-gc-threshold are deleted, evicted
//   ones first, then oldest first (0 turns this off);
// - terminating pods on a node that is not Ready and carries node.kubernetes.io/out-of-service
//   (an administrator's word that the node is down) are force-deleted;
// - pods bound to a node that no longer exists are force-deleted, once the node has been missing
//   from the cache for a quarantine (40 s) and a live GET confirms it is gone;
// - terminating pods never bound to a node are force-deleted (no kubelet will finish them).
// Force deletion first moves a pod that has not finished to phase Failed (the orphan's kubelet is
// gone and will never say so), then deletes it with grace period 0.

import { isNotFound } from "#pkg/api/errors.js";
import { keyOf } from "#pkg/api/keys.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import { TAINT_NODE_OUT_OF_SERVICE, taintKeyExists } from "#pkg/api/taints.js";
import { metaTime } from "#pkg/api/time.js";
import type { Node, Pod, PodCondition } from "#pkg/api/types/core.js";
import type { Informer } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import { updatePodCondition } from "#pkg/controller/pod-util.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Counter, type Registry } from "#pkg/runtime/metrics.js";
import { until } from "#pkg/runtime/wait.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";

export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12500;
/** gcCheckPeriod, quarantineTime. */
export const GC_CHECK_PERIOD_MS = 20_000;
export const QUARANTINE_MS = 40_000;

export interface PodGCOptions {
  /** --terminated-pod-gc-threshold: terminated pods kept; 0 keeps them all. */
  terminatedPodGCThreshold?: number;
  /** Upstream's NewPodGCInternal knobs, for tests. */
  gcCheckPeriodMs?: number;
  quarantineMs?: number;
}

/** The reasons of pod_gc_collector_force_delete_pods_total. */
type GCReason = "terminated" | "orphaned" | "terminating_out_of_service" | "terminating_unscheduled";

/** Not Pending, Running or Unknown (upstream isPodTerminated). */
export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Pending" && phase !== "Running" && phase !== "Unknown" && phase !== undefined;
}

/** Failed with reason Evicted (upstream eviction.PodIsEvicted). */
export function isPodEvicted(pod: Pod): boolean {
  return pod.status?.phase === "Failed" && pod.status.reason === "Evicted";
}

function created(pod: Pod): number {
  const t = pod.metadata.creationTimestamp ? Date.parse(pod.metadata.creationTimestamp) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** byEvictionAndCreationTimestamp: evicted first, then oldest, then by name. */
export function compareByEvictionAndCreation(a: Pod, b: Pod): number {
  const ea = isPodEvicted(a);
  const eb = isPodEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const d = created(a) - created(b);
  if (d !== 0) return d;
  const na = a.metadata.name ?? "";
  const nb = b.metadata.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** terminatedPodsToDelete: the terminated pods beyond the threshold, in deletion order (gcTerminated). */
export function terminatedPodsToDelete(pods: readonly Pod[], threshold: number): Pod[] {
  if (threshold <= 0) return [];
  const terminated = pods.filter(isPodTerminated);
  const n = terminated.length - threshold;
  if (n <= 0) return [];
  return terminated.sort(compareByEvictionAndCreation).slice(0, n);
}

export function isNodeReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** gcTerminating's choice: terminating pods on a not-Ready node tainted out-of-service. */
export function terminatingPodsOnOutOfServiceNodes(
  pods: readonly Pod[],
  node: (name: string) => Node | undefined,
): Pod[] {
  return pods
    .filter((p) => {
      if (!p.metadata.deletionTimestamp) return false;
      const n = node(p.spec?.nodeName ?? "");
      return !!n && !isNodeReady(n) && taintKeyExists(n.spec?.taints, TAINT_NODE_OUT_OF_SERVICE);
    })
    .sort(compareByEvictionAndCreation);
}

/** gcUnscheduledTerminating's choice. */
export function unscheduledTerminatingPods(pods: readonly Pod[]): Pod[] {
  return pods.filter((p) => p.metadata.deletionTimestamp && !p.spec?.nodeName);
}

export class PodGCController implements Controller {
  readonly name = "podgc";
  readonly #client: ApiClient;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #threshold: number;
  readonly #periodMs: number;
  readonly #quarantineMs: number;
  /** Nodes missing from the cache → when their quarantine ends (upstream's delaying nodeQueue). */
  readonly #quarantine = new Map<string, number>();
  readonly #deleted: Counter<"namespace" | "reason">;
  readonly #errors: Counter<"namespace" | "reason">;

  constructor(ctx: ControllerContext, o: PodGCOptions = {}) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#threshold = o.terminatedPodGCThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD;
    this.#periodMs = o.gcCheckPeriodMs ?? GC_CHECK_PERIOD_MS;
    this.#quarantineMs = o.quarantineMs ?? QUARANTINE_MS;
    this.#pods = ctx.informers.informer(PODS);
    this.#nodes = ctx.informers.informer(NODES);
    const counter = (registry: Registry, name: string, help: string) => {
      registry.removeSingleMetric(name);
      return new Counter<"namespace" | "reason">({
        name,
        help,
        labelNames: ["namespace", "reason"],
        registers: [registry],
      });
    };
    this.#deleted = counter(
      ctx.metrics,
      "pod_gc_collector_force_delete_pods_total",
      "Number of pods that are being forcefully deleted since the Pod GC Controller started.",
    );
    this.#errors = counter(
      ctx.metrics,
      "pod_gc_collector_force_delete_pod_errors_total",
      "Number of errors encountered when forcefully deleting the pods since the Pod GC Controller started.",
    );
  }

  async run(signal: AbortSignal, _workers: number): Promise<void> {
    this.#log.info({ terminatedPodGCThreshold: this.#threshold }, "starting pod garbage collector");
    if (!(await waitForCacheSync(signal, this.#pods, this.#nodes))) return;
    await until(() => this.gc(), this.#periodMs, signal, {
      clock: this.#clock,
      onError: (err) => this.#log.error({ err }, "pod garbage collection failed"),
    });
  }

  /** One pass (upstream gc). Failures are logged and left to the next pass. */
  async gc(): Promise<void> {
    const pods = this.#pods.list();
    const nodes = this.#nodes.list();
    if (this.#threshold > 0) await this.#gcTerminated(pods);
    await this.#gcTerminating(pods);
    await this.#gcOrphaned(pods, nodes);
    await this.#gcUnscheduledTerminating(pods);
  }

  async #gcTerminated(pods: readonly Pod[]): Promise<void> {
    const victims = terminatedPodsToDelete(pods, this.#threshold);
    if (victims.length === 0) return;
    this.#log.info({ pods: victims.length }, "garbage collecting terminated pods");
    await this.#deleteAll(victims, "terminated");
  }

  async #gcTerminating(pods: readonly Pod[]): Promise<void> {
    const victims = terminatingPodsOnOutOfServiceNodes(pods, (name) => this.#nodes.get(name));
    if (victims.length === 0) return;
    this.#log.info(
      { pods: victims.length },
      `garbage collecting pods terminating on nodes tainted ${TAINT_NODE_OUT_OF_SERVICE}`,
    );
    await this.#deleteAll(victims, "terminating_out_of_service");
  }

  /** gcOrphaned: pods whose node is gone (after quarantine and a live check). */
  async #gcOrphaned(pods: readonly Pod[], nodes: readonly Node[]): Promise<void> {
    const existing = new Set(nodes.map((n) => n.metadata.name ?? ""));
    const now = this.#clock.now();
    for (const pod of pods) {
      const node = pod.spec?.nodeName;
      if (node && !existing.has(node) && !this.#quarantine.has(node))
        this.#quarantine.set(node, now + this.#quarantineMs);
    }
    const deletedNodes = new Set<string>();
    for (const [node, due] of [...this.#quarantine]) {
      if (due > now) continue;
      this.#quarantine.delete(node);
      if (existing.has(node)) continue;
      try {
        await this.#client.get(NODES, undefined, node);
      } catch (err) {
        if (isNotFound(err)) deletedNodes.add(node);
        // Any other error: the node is quarantined again by the next pass if still missing.
        else this.#log.error({ err, node }, "error while getting node");
      }
    }
    if (deletedNodes.size === 0) return;
    const condition: PodCondition = {
      type: "DisruptionTarget",
      status: "True",
      reason: "DeletionByPodGC",
      message: "PodGC: node no longer exists",
    };
    const orphans = pods.filter((p) => deletedNodes.has(p.spec?.nodeName ?? ""));
    for (const pod of orphans) {
      this.#log.info(
        { pod: keyOf(pod), node: pod.spec?.nodeName },
        "found orphaned Pod assigned to the Node, deleting",
      );
      await this.#forceDelete(pod, "orphaned", condition);
    }
  }

  async #gcUnscheduledTerminating(pods: readonly Pod[]): Promise<void> {
    for (const pod of unscheduledTerminatingPods(pods)) {
      this.#log.info({ pod: keyOf(pod) }, "found unscheduled terminating Pod not assigned to any Node, deleting");
      await this.#forceDelete(pod, "terminating_unscheduled");
    }
  }

  async #deleteAll(pods: readonly Pod[], reason: GCReason): Promise<void> {
    await Promise.all(pods.map((p) => this.#forceDelete(p, reason)));
  }

  /** markFailedAndDeletePod[WithCondition]: never throws; errors are counted and logged. */
  async #forceDelete(pod: Pod, reason: GCReason, condition?: PodCondition): Promise<void> {
    const namespace = pod.metadata.namespace ?? "";
    const name = pod.metadata.name ?? "";
    this.#deleted.inc({ namespace, reason });
    try {
      this.#log.info({ pod: keyOf(pod), reason }, "PodGC is force deleting Pod");
      if (pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed") {
        // Read fresh: the status write must not undo what the cache has not seen yet.
        const cur = await this.#client.get(PODS, namespace, name);
        if (cur.metadata.uid !== pod.metadata.uid) return;
        const status = structuredClone(cur.status ?? {});
        if (status.phase !== "Succeeded" && status.phase !== "Failed") {
          status.phase = "Failed";
          if (condition) updatePodCondition(status, condition, metaTime(this.#clock.now()));
          await this.#client.update(PODS, namespace, { ...cur, status }, { subresource: "status" });
        }
      }
      await this.#client.delete(PODS, namespace, name, {
        gracePeriodSeconds: 0,
        ...(pod.metadata.uid ? { preconditions: { uid: pod.metadata.uid } } : {}),
      });
    } catch (err) {
      if (isNotFound(err)) return;
      this.#errors.inc({ namespace, reason });
      this.#log.error({ err, pod: keyOf(pod), reason }, "cannot force delete pod");
    }
  }
}

export const newPodGCController: ControllerInit = (ctx) => new PodGCController(ctx, ctx.options?.podGC);
