// The taint eviction controller (upstream pkg/controller/tainteviction/taint_eviction.go, the
// "taint-eviction-controller"): a pod on a node with NoExecute taints it does not tolerate is
// deleted at once; one that tolerates them all, some for tolerationSeconds only, is deleted when
// the first of those runs out; tolerating them all for ever, it stays. A pending deletion is
// cancelled when the taint goes (or the pod does). Deleting, it sets the pod's DisruptionTarget
// condition (DeletionByTaintManager) and records TaintManagerEviction, as upstream.
//
// Unlike upstream, which starts a toleration's clock when this controller notices the taint (so a
// restarted controller-manager starts every clock again), the clock starts at the taint's
// timeAdded, or when the pod was bound to the node if that was later: how long the pod has
// actually tolerated the taint. A taint without timeAdded counts from now.

import { isNotFound } from "#pkg/api/errors.js";
import { keyOf, splitKey } from "#pkg/api/keys.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import { getMatchingTolerations } from "#pkg/api/taints.js";
import { metaTime } from "#pkg/api/time.js";
import type { Node, Pod, Taint, Toleration } from "#pkg/api/types/core.js";
import { type Informer, objectOf, type Tombstone } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { updatePodCondition } from "#pkg/controller/pod-util.js";
import { podsAssignedToNode } from "#pkg/controller/pods-by-node.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import { TimedWorkerQueue } from "./timed-workers.js";

export const CONTROLLER_NAME = "taint-eviction-controller";
/** Deletion attempts of one eviction, 10 ms apart (upstream `retries`). */
const DELETE_RETRIES = 5;
const DELETE_RETRY_SLEEP_MS = 10;

export function noExecuteTaints(taints: readonly Taint[] | undefined): Taint[] {
  return (taints ?? []).filter((t) => t.effect === "NoExecute");
}

function timeOf(s: string | undefined | null): number | undefined {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** When the pod was bound to its node: its PodScheduled condition, else its creation. */
export function boundAt(pod: Pod): number {
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "True");
  return timeOf(scheduled?.lastTransitionTime) ?? timeOf(pod.metadata.creationTimestamp) ?? 0;
}

export type EvictionDecision = { evict: "now" } | { evict: "at"; at: number } | { evict: "never" };

/**
 * evictionTime: when a pod with these tolerations must leave a node with these NoExecute
 * taints. Not tolerating one of them: now. Else, for every taint whose first matching
 * toleration has tolerationSeconds, that many seconds after the later of the taint's timeAdded
 * (now if unset) and the pod's binding; the earliest of those (upstream getMinTolerationTime,
 * where tolerationSeconds <= 0 means now). None with tolerationSeconds: never.
 */
export function evictionTime(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
  podBoundAt: number,
  now: number,
): EvictionDecision {
  if (taints.length === 0) return { evict: "never" };
  const { allTolerated, used } = getMatchingTolerations(taints, tolerations);
  if (!allTolerated) return { evict: "now" };
  let at = Number.POSITIVE_INFINITY;
  used.forEach((t, i) => {
    const seconds = t.tolerationSeconds;
    if (seconds === undefined || seconds === null) return;
    if (seconds <= 0) {
      at = Math.min(at, now);
      return;
    }
    const start = Math.min(now, Math.max(timeOf(taints[i]?.timeAdded) ?? now, podBoundAt));
    at = Math.min(at, start + seconds * 1000);
  });
  if (!Number.isFinite(at)) return { evict: "never" };
  return at <= now ? { evict: "now" } : { evict: "at", at };
}

function podRef(namespace: string, name: string): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace } };
}

export class TaintEvictionController implements Controller {
  readonly name = CONTROLLER_NAME;
  readonly nodeQueue: WorkQueue;
  readonly podQueue: WorkQueue;
  readonly evictions: TimedWorkerQueue;
  readonly #client: ApiClient;
  readonly #nodes: Informer<Node>;
  readonly #pods: Informer<Pod>;
  readonly #podsOnNode: (nodeName: string) => Pod[];
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder(CONTROLLER_NAME);
    this.nodeQueue = new WorkQueue({ name: "noexec_taint_node", clock: ctx.clock });
    this.podQueue = new WorkQueue({ name: "noexec_taint_pod", clock: ctx.clock });
    this.evictions = new TimedWorkerQueue(
      (key, fireAt) => this.#deletePod(key, fireAt),
      ctx.clock,
      (key, err) => this.#log.error({ err, pod: key }, "cannot evict pod"),
    );
    this.#nodes = ctx.informers.informer(NODES);
    this.#pods = ctx.informers.informer(PODS);
    this.#podsOnNode = podsAssignedToNode(this.#pods);

    this.#pods.on("add", (pod) => this.podQueue.add(keyOf(pod)));
    this.#pods.on("update", (old, cur) => {
      if (old.spec?.nodeName === cur.spec?.nodeName && sameJSON(old.spec?.tolerations, cur.spec?.tolerations)) return;
      this.podQueue.add(keyOf(cur));
    });
    this.#pods.on("delete", (obj: Pod | Tombstone<Pod>) => this.podQueue.add(keyOf(objectOf(obj))));
    this.#nodes.on("add", (node) => this.nodeQueue.add(keyOf(node)));
    this.#nodes.on("update", (old, cur) => {
      if (sameJSON(noExecuteTaints(old.spec?.taints), noExecuteTaints(cur.spec?.taints))) return;
      this.nodeQueue.add(keyOf(cur));
    });
    this.#nodes.on("delete", (obj) => this.nodeQueue.add(keyOf(objectOf(obj))));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info("starting taint eviction controller");
    if (!(await waitForCacheSync(signal, this.#nodes, this.#pods))) return;
    try {
      // Node updates and pod updates have their own workers, so a flood of pod updates never
      // delays the evictions a new taint calls for (upstream prioritizes the node queue).
      await Promise.all([
        runWorkers(this.nodeQueue, workers, (key) => this.handleNodeUpdate(key), signal, this.#log),
        runWorkers(this.podQueue, workers, (key) => this.handlePodUpdate(key), signal, this.#log),
      ]);
    } finally {
      await this.evictions.stop();
    }
  }

  /** handleNodeUpdate: every pod of the node is looked at against its NoExecute taints now. */
  async handleNodeUpdate(name: string): Promise<void> {
    const node = this.#nodes.get(name);
    // A deleted node's pods are pod GC's business.
    if (!node) return;
    const taints = noExecuteTaints(node.spec?.taints);
    const pods = this.#podsOnNode(name);
    const now = this.#clock.now();
    if (taints.length === 0) {
      for (const pod of pods) this.#cancelWithEvent(keyOf(pod));
      return;
    }
    for (const pod of pods) this.#processPodOnNode(pod, taints, now);
  }

  /** handlePodUpdate: a pod added, deleted, moved or with new tolerations. */
  async handlePodUpdate(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    if (!pod) {
      this.#cancelWithEvent(key);
      return;
    }
    const node = this.#nodes.get(pod.spec?.nodeName ?? "");
    if (!node) return;
    const taints = noExecuteTaints(node.spec?.taints);
    if (taints.length === 0) return;
    this.#processPodOnNode(pod, taints, this.#clock.now());
  }

  #processPodOnNode(pod: Pod, taints: readonly Taint[], now: number): void {
    const key = keyOf(pod);
    const decision = evictionTime(taints, pod.spec?.tolerations ?? [], boundAt(pod), now);
    if (decision.evict === "never") {
      this.#cancelWithEvent(key);
      return;
    }
    // Already being deleted: deleting it again would only repeat the condition and the event.
    if (pod.metadata.deletionTimestamp) return;
    const at = decision.evict === "now" ? now : decision.at;
    const existing = this.evictions.getWork(key);
    if (existing === null) return; // evicted already
    if (existing && existing.fireAt <= at) return;
    if (existing) this.#cancelWithEvent(key);
    if (decision.evict === "now")
      this.#log.info({ pod: key, node: pod.spec?.nodeName }, "not all taints are tolerated; evicting pod");
    else this.#log.info({ pod: key, node: pod.spec?.nodeName, at: metaTime(at) }, "scheduling eviction of pod");
    this.evictions.addWork(key, at);
  }

  #cancelWithEvent(key: string): void {
    if (!this.evictions.cancelWork(key)) return;
    const { namespace, name } = splitKey(key);
    this.#log.info({ pod: key }, "cancelling eviction of pod");
    this.#recorder.event(
      podRef(namespace ?? "", name),
      "Normal",
      "TaintManagerEviction",
      `Cancelling deletion of Pod ${key}`,
    );
  }

  /** deletePodHandler: the event, then DisruptionTarget and delete, a few times if need be. */
  async #deletePod(key: string, _fireAt: number): Promise<void> {
    const { namespace = "", name } = splitKey(key);
    this.#log.info({ pod: key }, "deleting pod");
    this.#recorder.event(podRef(namespace, name), "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#addConditionAndDeletePod(namespace, name);
        return;
      } catch (err) {
        if (isNotFound(err)) return;
        if (attempt >= DELETE_RETRIES) throw err;
      }
      await this.#clock.sleep(DELETE_RETRY_SLEEP_MS);
    }
  }

  async #addConditionAndDeletePod(namespace: string, name: string): Promise<void> {
    const pod = await this.#client.get(PODS, namespace, name);
    const uid = pod.metadata.uid;
    const status = structuredClone(pod.status ?? {});
    const changed = updatePodCondition(
      status,
      {
        type: "DisruptionTarget",
        status: "True",
        reason: "DeletionByTaintManager",
        message: "Taint manager: deleting due to NoExecute taint",
      },
      metaTime(this.#clock.now()),
    );
    if (changed) await this.#client.update(PODS, namespace, { ...pod, status }, { subresource: "status" });
    // The uid precondition: a pod recreated under the same name meanwhile is not this eviction's.
    await this.#client.delete(PODS, namespace, name, uid ? { preconditions: { uid } } : undefined);
  }
}

function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}

export const newTaintEvictionController: ControllerInit = (ctx) => new TaintEvictionController(ctx);
