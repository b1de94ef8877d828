// The scheduler: informer event handlers feed the SchedulerCache (bound pods, nodes) and the
// SchedulingQueue (pods to place); scheduleOne pops one pod, runs the framework over a view
// of all nodes, assumes the pod on the chosen node, runs the Reserve plugins and binds it in
// the background (PreBind plugins, then the Binding) while the next pod is scheduled (upstream
// schedule_one.go). Failures become a FailedScheduling Event plus PodScheduled=False on the
// pod, the Reserve plugins are undone, and the pod waits in the queue for a cluster change.

import { DEFAULT_SCHEDULER_NAME } from "#pkg/api/defaults.js";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { keyOf } from "#pkg/api/keys.js";
import { podClaimNames } from "#pkg/api/pod-references.js";
import { metaTime } from "#pkg/api/time.js";
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  StorageClass,
} from "#pkg/api/types/index.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import { type Logger, silentLogger } from "#pkg/runtime/log.js";
import { Semaphore } from "#pkg/runtime/semaphore.js";
import { until } from "#pkg/runtime/wait.js";
import { SchedulerCache } from "./cache.js";
import { FitError, Framework } from "./framework/runtime.js";
import { CycleState, type Status, statusMessage } from "./framework/types.js";
import { buildProfile } from "./plugins/registry.js";
import type { VolumeBindingArgs, VolumeBindingHandle } from "./plugins/volume-binding.js";
import { type QueuedPodInfo, SchedulingQueue, type SchedulingQueueOptions } from "./queue.js";

export { DEFAULT_SCHEDULER_NAME };

/** Writes to the API server that the scheduler makes; the real one is ApiBinder (api.ts). */
export interface SchedulerApi {
  /** POST pods/{name}/binding. */
  bind(pod: Pod, nodeName: string): Promise<void>;
  /** Sets the PodScheduled condition through pods/{name}/status. */
  updatePodCondition(pod: Pod, condition: PodCondition): Promise<void>;
}

/** Event sink with EventRecorder's shape (pkg/controller/events.ts). */
export interface EventSink {
  event(obj: Pod, type: "Normal" | "Warning", reason: string, message: string): void;
}

export interface SchedulerOptions {
  api: SchedulerApi;
  events?: EventSink;
  schedulerName?: string;
  clock?: Clock;
  log?: Logger;
  framework?: Framework;
  /** What the VolumeBinding plugin reads and writes (default: no claims are known). */
  volumes?: VolumeBindingHandle;
  volumeBindingArgs?: VolumeBindingArgs;
  queue?: SchedulingQueueOptions;
  /** Bindings in flight at once (each is one POST). */
  bindConcurrency?: number;
}

export interface SchedulerMetrics {
  attempts: { scheduled: number; unschedulable: number; error: number };
  bindings: { ok: number; failed: number };
  schedulingSecondsSum: number;
}

function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function isAssigned(pod: Pod): boolean {
  return !!pod.spec?.nodeName;
}

function hasClaims(pod: Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim);
}

/** nodeSchedulingPropertiesChanged: allocatable, labels, taints or unschedulable changed (upstream). */
export function nodeSchedulingPropertiesChanged(oldNode: Node, newNode: Node): boolean {
  const j = (v: unknown) => JSON.stringify(v ?? null);
  return (
    j(oldNode.status?.allocatable) !== j(newNode.status?.allocatable) ||
    j(oldNode.metadata.labels) !== j(newNode.metadata.labels) ||
    j(oldNode.spec?.taints) !== j(newNode.spec?.taints) ||
    !!oldNode.spec?.unschedulable !== !!newNode.spec?.unschedulable ||
    j(oldNode.status?.conditions?.map((c) => [c.type, c.status])) !==
      j(newNode.status?.conditions?.map((c) => [c.type, c.status]))
  );
}

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly queue: SchedulingQueue;
  readonly framework: Framework;
  readonly schedulerName: string;
  readonly metrics: SchedulerMetrics = {
    attempts: { scheduled: 0, unschedulable: 0, error: 0 },
    bindings: { ok: 0, failed: 0 },
    schedulingSecondsSum: 0,
  };
  readonly #api: SchedulerApi;
  readonly #events: EventSink | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #bindSlots: Semaphore;
  readonly #bindings = new Set<Promise<void>>();
  /** Aborted when run() stops: PreBind waits end with it. */
  readonly #stopping = new AbortController();

  constructor(o: SchedulerOptions) {
    this.#api = o.api;
    this.#events = o.events;
    this.#clock = o.clock ?? realClock;
    this.#log = o.log ?? silentLogger;
    this.schedulerName = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.framework =
      o.framework ??
      new Framework(
        buildProfile(undefined, undefined, {
          ...(o.volumes ? { volumes: o.volumes } : {}),
          volumeBindingArgs: { clock: this.#clock, ...o.volumeBindingArgs },
        }),
      );
    this.queue = new SchedulingQueue({ clock: this.#clock, ...o.queue });
    this.#bindSlots = new Semaphore(o.bindConcurrency ?? 64);
  }

  /** responsibleFor: the pod names this scheduler (an empty schedulerName means the default one). */
  responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  #wantsScheduling(pod: Pod): boolean {
    return !isAssigned(pod) && !pod.metadata.deletionTimestamp && !isTerminal(pod) && this.responsibleFor(pod);
  }

  // ------------------------------------------------------------ informer event handlers

  onPodAdd(pod: Pod): void {
    if (isAssigned(pod)) {
      if (isTerminal(pod)) return;
      this.cache.addPod(pod);
      return;
    }
    if (this.#wantsScheduling(pod) && !this.cache.isAssumed(keyOf(pod))) this.queue.add(pod);
  }

  onPodUpdate(oldPod: Pod, pod: Pod): void {
    const key = keyOf(pod);
    if (isAssigned(pod)) {
      if (!isAssigned(oldPod)) this.queue.delete(pod);
      if (isTerminal(pod)) {
        // A finished pod no longer holds its requests: that may let waiting pods fit.
        this.cache.removePod(key);
        if (!isTerminal(oldPod)) this.queue.moveAllToActiveOrBackoff("AssignedPodTerminated");
        return;
      }
      this.cache.updatePod(pod);
      return;
    }
    if (!this.#wantsScheduling(pod)) {
      this.queue.delete(pod);
      return;
    }
    if (this.cache.isAssumed(key)) return;
    this.queue.update(oldPod, pod);
  }

  onPodDelete(pod: Pod): void {
    const key = keyOf(pod);
    if (isAssigned(pod)) {
      this.cache.removePod(key);
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      return;
    }
    this.queue.delete(pod);
    // An assumed pod deleted before the informer saw its binding frees its room too.
    if (this.cache.isAssumed(key)) {
      this.cache.forgetPod(pod);
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
    }
  }

  onNodeAdd(node: Node): void {
    this.cache.addNode(node);
    this.queue.moveAllToActiveOrBackoff("NodeAdd");
  }

  onNodeUpdate(oldNode: Node, node: Node): void {
    this.cache.updateNode(node);
    if (nodeSchedulingPropertiesChanged(oldNode, node)) this.queue.moveAllToActiveOrBackoff("NodeUpdate");
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node.metadata.name ?? "");
  }

  // Storage events, with VolumeBinding's queueing hints (upstream EventsToRegister): a claim's
  // add or update may help the pods that use it; a PV's, or a new StorageClass or a change of a
  // class's allowedTopologies, the pods with claims.

  onClaimAddOrUpdate(pvc: PersistentVolumeClaim): void {
    const ns = pvc.metadata.namespace ?? "";
    const name = pvc.metadata.name ?? "";
    this.queue.moveAllToActiveOrBackoff(
      "PersistentVolumeClaimChange",
      (pod) => (pod.metadata.namespace ?? "") === ns && podClaimNames(pod).has(name),
    );
  }

  onVolumeAddOrUpdate(_pv: PersistentVolume): void {
    this.queue.moveAllToActiveOrBackoff("PersistentVolumeChange", hasClaims);
  }

  onStorageClassAdd(_sc: StorageClass): void {
    this.queue.moveAllToActiveOrBackoff("StorageClassAdd", hasClaims);
  }

  onStorageClassUpdate(old: StorageClass, sc: StorageClass): void {
    if (JSON.stringify(old.allowedTopologies ?? null) !== JSON.stringify(sc.allowedTopologies ?? null))
      this.queue.moveAllToActiveOrBackoff("StorageClassUpdate", hasClaims);
  }

  // ------------------------------------------------------------ scheduling

  /**
   * scheduleOne schedules the next pod from the queue (waiting for one). Returns false once
   * the queue is closed. The binding runs in the background (see waitForBindings).
   */
  async scheduleOne(): Promise<boolean> {
    const q = await this.queue.pop();
    if (!q) return false;
    const cycle = this.queue.schedulingCycle;
    const pod = this.queue.latest(q);
    const key = q.key;
    if (!this.#wantsScheduling(pod) || this.cache.isAssumed(key)) {
      this.queue.done(key);
      return true;
    }
    const log = this.#log.child({ pod: key });
    const start = performance.now();
    const state = new CycleState();
    let nodeName: string;
    try {
      nodeName = this.framework.schedule(state, pod, this.cache.nodeInfos()).nodeName;
    } catch (err) {
      this.metrics.schedulingSecondsSum += (performance.now() - start) / 1000;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof FitError || message === "no nodes available to schedule pods") {
        this.metrics.attempts.unschedulable++;
        log.info({ reason: message }, "unable to schedule pod; waiting");
        this.queue.addUnschedulable(q, cycle);
      } else {
        this.metrics.attempts.error++;
        log.error({ err }, "error scheduling pod; retrying");
        this.queue.addBackoff(q);
      }
      this.#recordFailure(pod, message, log);
      return true;
    }
    this.metrics.schedulingSecondsSum += (performance.now() - start) / 1000;
    this.metrics.attempts.scheduled++;
    const assumed: Pod = { ...pod, spec: { ...(pod.spec ?? { containers: [] }), nodeName } };
    this.cache.assumePod(assumed);
    const reserved = this.framework.runReserve(state, assumed, nodeName);
    if (reserved.code !== "Success") {
      this.framework.runUnreserve(state, assumed, nodeName);
      this.cache.forgetPod(assumed);
      this.#requeueAfterFailure(q, reserved, cycle, log);
      this.#recordFailure(pod, statusMessage(reserved), log);
      return true;
    }
    // The pod stays "in flight" in the queue until its binding returns, so a delete or an
    // update that races with the bind is not lost.
    const p = this.#bind(q, state, assumed, nodeName, cycle, log);
    this.#bindings.add(p);
    void p.finally(() => this.#bindings.delete(p));
    return true;
  }

  /** A rejecting status waits for a cluster event; an Error is retried after backoff. */
  #requeueAfterFailure(q: QueuedPodInfo, status: Status, cycle: number, log: Logger): void {
    if (status.code === "Error") {
      this.metrics.attempts.error++;
      log.error({ reason: statusMessage(status) }, "error scheduling pod; retrying");
      this.queue.addBackoff(q);
    } else {
      this.metrics.attempts.unschedulable++;
      log.info({ reason: statusMessage(status) }, "unable to schedule pod; waiting");
      this.queue.addUnschedulable(q, cycle);
    }
  }

  async #bind(
    q: QueuedPodInfo,
    state: CycleState,
    assumed: Pod,
    nodeName: string,
    cycle: number,
    log: Logger,
  ): Promise<void> {
    // PreBind (VolumeBinding may wait here for the claims to be bound), outside the bind slots:
    // pods waiting on volumes must not hold up the others' bindings.
    const pre = await this.framework.runPreBind(state, assumed, nodeName, this.#stopping.signal);
    if (pre.code !== "Success") {
      this.metrics.bindings.failed++;
      this.framework.runUnreserve(state, assumed, nodeName);
      this.cache.forgetPod(assumed);
      this.#requeueAfterFailure(q, pre, cycle, log);
      // The assumed pod's room is free again for the others.
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      // A wait cut short by shutdown is no failure of the pod's: the next leader retries it.
      if (!this.#stopping.signal.aborted) this.#recordFailure(assumed, statusMessage(pre), log);
      return;
    }
    const release = await this.#bindSlots.acquire();
    try {
      await this.#api.bind(assumed, nodeName);
      this.cache.finishBinding(assumed);
      this.queue.done(q.key);
      this.metrics.bindings.ok++;
      log.info({ node: nodeName }, "bound pod to node");
      this.#events?.event(
        assumed,
        "Normal",
        "Scheduled",
        `Successfully assigned ${assumed.metadata.namespace}/${assumed.metadata.name} to ${nodeName}`,
      );
    } catch (err) {
      this.metrics.bindings.failed++;
      this.framework.runUnreserve(state, assumed, nodeName);
      this.cache.forgetPod(assumed);
      if (isConflict(err) || isNotFound(err)) {
        // Already bound (by another scheduler) or deleted: nothing to retry; the informer
        // delivers the truth.
        log.info({ node: nodeName, err }, "binding rejected; forgetting assumed pod");
        this.queue.done(q.key);
        return;
      }
      log.error({ node: nodeName, err }, "binding failed; retrying after backoff");
      // The pod is back in the queue and its assumed room is free again for others.
      this.queue.addBackoff(q);
      this.queue.moveAllToActiveOrBackoff("AssignedPodDelete");
      this.#recordFailure(assumed, `Binding rejected: ${err instanceof Error ? err.message : String(err)}`, log);
    } finally {
      release();
    }
  }

  #recordFailure(pod: Pod, message: string, log: Logger): void {
    this.#events?.event(pod, "Warning", "FailedScheduling", message);
    const existing = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (
      existing &&
      existing.status === "False" &&
      existing.reason === "Unschedulable" &&
      existing.message === message
    ) {
      return;
    }
    const now = metaTime(this.#clock.now());
    const condition: PodCondition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message,
      lastProbeTime: null,
      lastTransitionTime: existing?.status === "False" ? (existing.lastTransitionTime ?? now) : now,
    };
    this.#api.updatePodCondition(pod, condition).catch((err: unknown) => {
      if (isNotFound(err)) return;
      log.warn({ err }, "failed to set PodScheduled=False");
    });
  }

  /**
   * run schedules pods until signal aborts (upstream: wait.UntilWithContext(ctx, ScheduleOne, 0);
   * the zero period yields, so informer events and binding responses get in between the pods of
   * a long burst), then closes the queue and waits for in-flight bindings.
   */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = () => {
      this.queue.close();
      this.#stopping.abort();
    };
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    // The loop also ends when the queue is closed under it.
    const closed = new AbortController();
    try {
      await until(
        async () => {
          if (!(await this.scheduleOne())) closed.abort();
        },
        0,
        AbortSignal.any([signal, closed.signal]),
      );
    } finally {
      signal.removeEventListener("abort", onAbort);
      await this.waitForBindings();
    }
  }

  async waitForBindings(): Promise<void> {
    while (this.#bindings.size > 0) await Promise.allSettled([...this.#bindings]);
  }
}
