// SchedulerApp wires a Scheduler to the cluster: pod and node informers feeding its handlers,
// claim, PV and StorageClass informers for VolumeBinding (ApiVolumeBinder) and the queue's
// storage events, the ApiBinder, an EventRecorder, and (optionally) leader election on the Lease
// kube-system/kube-scheduler, so that of several running schedulers only the leader
// schedules. Informers run from the start on every replica, so a new leader is ready at once.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { ResourceType } from "#pkg/api/resources.js";
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES } from "#pkg/api/resources.js";
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "#pkg/api/types/index.js";
import { Informer, objectOf } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import type { LeaderElector } from "#pkg/controller/leader.js";
import { type LeaderElectionConfig, newLeaderElector } from "#pkg/controller/leader-config.js";
import { type Logger, silentLogger } from "#pkg/runtime/log.js";
import { counterFunc, gaugeFunc, newRegistry, type Registry } from "#pkg/runtime/metrics.js";
import { ApiBinder, ApiVolumeBinder, PODS } from "./api.js";
import type { VolumeBindingArgs } from "./plugins/volume-binding.js";
import type { SchedulingQueueOptions } from "./queue.js";
import { DEFAULT_SCHEDULER_NAME, Scheduler } from "./scheduler.js";

export const LEASE_NAMESPACE = "kube-system";
export const LEASE_NAME = "kube-scheduler";

export interface SchedulerAppOptions extends LeaderElectionConfig {
  client: ApiClient;
  schedulerName?: string;
  log?: Logger;
  queue?: SchedulingQueueOptions;
  bindConcurrency?: number;
  /** VolumeBinding's arguments (its bind timeout). */
  volumeBindingArgs?: VolumeBindingArgs;
  /** The process's metrics registry (default: a registry of its own, without process metrics). */
  registry?: Registry;
}

export type RunResult = "stopped" | "lost-leadership";

export class SchedulerApp {
  readonly scheduler: Scheduler;
  readonly pods: Informer<Pod>;
  readonly nodes: Informer<Node>;
  readonly claims: Informer<PersistentVolumeClaim>;
  readonly volumes: Informer<PersistentVolume>;
  readonly storageClasses: Informer<StorageClass>;
  readonly events: EventRecorder;
  readonly identity: string;
  /** The scheduler's metrics, served on /metrics by the HealthServer. */
  readonly registry: Registry;
  readonly #o: SchedulerAppOptions;
  readonly #log: Logger;
  #elector: LeaderElector | undefined;
  #leading = false;

  constructor(o: SchedulerAppOptions) {
    this.#o = o;
    this.#log = o.log ?? silentLogger;
    const schedulerName = o.schedulerName ?? DEFAULT_SCHEDULER_NAME;
    this.identity = o.identity ?? `${hostname()}_${randomUUID()}`;
    this.events = new EventRecorder(o.client, { component: schedulerName, log: this.#log });
    const informer = <T extends Pod | Node | PersistentVolumeClaim | PersistentVolume | StorageClass>(
      r: ResourceType<T>,
      module: string,
    ) => new Informer<T>(o.client, r, { log: this.#log.child({ module }) });
    this.pods = informer(PODS, "pod-informer");
    this.nodes = informer(NODES, "node-informer");
    this.claims = informer(PERSISTENTVOLUMECLAIMS, "pvc-informer");
    this.volumes = informer(PERSISTENTVOLUMES, "pv-informer");
    this.storageClasses = informer(STORAGECLASSES, "storageclass-informer");
    this.scheduler = new Scheduler({
      api: new ApiBinder(o.client),
      events: this.events,
      schedulerName,
      log: this.#log,
      volumes: new ApiVolumeBinder(o.client, {
        claims: this.claims,
        volumes: this.volumes,
        storageClasses: this.storageClasses,
        nodes: this.nodes,
        pods: this.pods,
      }),
      ...(o.volumeBindingArgs ? { volumeBindingArgs: o.volumeBindingArgs } : {}),
      ...(o.queue ? { queue: o.queue } : {}),
      ...(o.bindConcurrency ? { bindConcurrency: o.bindConcurrency } : {}),
    });
    const s = this.scheduler;
    this.nodes.on("add", (n) => s.onNodeAdd(n));
    this.nodes.on("update", (old, cur) => s.onNodeUpdate(old, cur));
    this.nodes.on("delete", (n) => s.onNodeDelete(objectOf(n)));
    this.pods.on("add", (p) => s.onPodAdd(p));
    this.pods.on("update", (old, cur) => s.onPodUpdate(old, cur));
    this.pods.on("delete", (p) => s.onPodDelete(objectOf(p)));
    this.claims.on("add", (c) => s.onClaimAddOrUpdate(c));
    this.claims.on("update", (_old, c) => s.onClaimAddOrUpdate(c));
    this.volumes.on("add", (v) => s.onVolumeAddOrUpdate(v));
    this.volumes.on("update", (_old, v) => s.onVolumeAddOrUpdate(v));
    this.storageClasses.on("add", (c) => s.onStorageClassAdd(c));
    this.storageClasses.on("update", (old, c) => s.onStorageClassUpdate(old, c));
    this.registry = o.registry ?? newRegistry({ processMetrics: false });
    this.#registerMetrics();
  }

  /** True when this replica schedules (always, without leader election). */
  isLeader(): boolean {
    return this.#leading;
  }

  hasSynced(): boolean {
    return this.#informers().every((i) => i.hasSynced());
  }

  #informers(): Informer<Pod | Node | PersistentVolumeClaim | PersistentVolume | StorageClass>[] {
    return [this.pods, this.nodes, this.claims, this.volumes, this.storageClasses] as Informer<
      Pod | Node | PersistentVolumeClaim | PersistentVolume | StorageClass
    >[];
  }

  /**
   * run starts the informers, waits for their first lists, then schedules (after winning the
   * lease, with leader election) until signal aborts or leadership is lost. Returns why it
   * stopped; in-flight bindings and pending events are finished first.
   */
  async run(signal: AbortSignal): Promise<RunResult> {
    const informers = new AbortController();
    const stopInformers = () => informers.abort();
    signal.addEventListener("abort", stopInformers, { once: true });
    const running = Promise.all(
      this.#informers().map((i) =>
        i
          .run(informers.signal)
          .catch((err: unknown) => this.#log.error({ err, resource: i.resource.resource }, "informer failed")),
      ),
    );
    let result: RunResult = "stopped";
    try {
      // A shutdown before the first lists (even before run was called) ends the run, not an error.
      await Promise.all(this.#informers().map((i) => i.waitForSync(signal))).catch((err: unknown) => {
        if (!signal.aborted) throw err;
      });
      if (signal.aborted) return result;
      this.#log.info({ nodes: this.nodes.list().length, pods: this.pods.list().length }, "caches synced");
      if (this.#o.leaderElect === false) {
        this.#leading = true;
        await this.scheduler.run(signal);
      } else {
        this.#elector = newLeaderElector(this.#o.client, this.#o, {
          namespace: LEASE_NAMESPACE,
          name: LEASE_NAME,
          identity: this.identity,
          log: this.#log,
        });
        let led = false;
        await this.#elector.run(signal, {
          onStartedLeading: async (leading) => {
            led = true;
            this.#leading = true;
            this.#log.info({ identity: this.identity }, "leading: scheduling");
            await this.scheduler.run(leading);
          },
          onStoppedLeading: () => {
            this.#leading = false;
          },
        });
        if (led && !signal.aborted) result = "lost-leadership";
      }
    } finally {
      this.#leading = false;
      signal.removeEventListener("abort", stopInformers);
      informers.abort();
      await running;
      await this.events.flush().catch(() => undefined);
    }
    return result;
  }

  /**
   * The scheduler's metrics under upstream's names, read from the scheduler's own counts, queue
   * and cache when scraped.
   */
  #registerMetrics(): void {
    const registry = this.registry;
    const s = this.scheduler;
    const m = s.metrics;
    const profile = s.schedulerName;
    counterFunc({
      name: "scheduler_schedule_attempts_total",
      help: "Number of attempts to schedule pods, by the result.",
      labelNames: ["profile", "result"],
      registry,
      read: () => [
        [{ profile, result: "scheduled" }, m.attempts.scheduled],
        [{ profile, result: "unschedulable" }, m.attempts.unschedulable],
        [{ profile, result: "error" }, m.attempts.error],
      ],
    });
    gaugeFunc({
      name: "scheduler_pending_pods",
      help: "Number of pending pods, by the queue type.",
      labelNames: ["queue"],
      registry,
      read: () => {
        const p = s.queue.pending();
        return [
          [{ queue: "active" }, p.active],
          [{ queue: "backoff" }, p.backoff],
          [{ queue: "unschedulable" }, p.unschedulable],
        ];
      },
    });
    counterFunc({
      name: "scheduler_binding_total",
      help: "Bindings sent, by the result.",
      labelNames: ["result"],
      registry,
      read: () => [
        [{ result: "ok" }, m.bindings.ok],
        [{ result: "failed" }, m.bindings.failed],
      ],
    });
    counterFunc({
      name: "scheduler_scheduling_algorithm_duration_seconds_sum",
      help: "Time spent filtering and scoring.",
      registry,
      read: () => m.schedulingSecondsSum,
    });
    gaugeFunc({
      name: "scheduler_cache_size",
      help: "Number of nodes, pods and assumed pods in the scheduler cache.",
      labelNames: ["type"],
      registry,
      read: () => [
        [{ type: "nodes" }, s.cache.nodeCount],
        [{ type: "pods" }, s.cache.podCount],
        [{ type: "assumed_pods" }, s.cache.assumedCount],
      ],
    });
    gaugeFunc({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
      labelNames: ["name"],
      registry,
      read: () => [[{ name: this.#o.leaseName ?? LEASE_NAME }, this.#leading ? 1 : 0]],
    });
  }
}
