// SchedulerApp wires a Scheduler to the cluster: pod and node informers feeding its handlers,
// the ApiBinder, an EventRecorder, and (optionally) leader election on the Lease
// kube-system/kube-scheduler, so that of several running schedulers only the leader
// schedules. Informers run from the start on every replica, so a new leader is ready at once.

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { NODES } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { Informer, objectOf } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { LeaderElector } from "#pkg/controller/leader.js";
import { type Logger, silentLogger } from "#pkg/runtime/log.js";
import { ApiBinder, PODS } from "./api.js";
import type { SchedulingQueueOptions } from "./queue.js";
import { DEFAULT_SCHEDULER_NAME, Scheduler } from "./scheduler.js";

export const LEASE_NAMESPACE = "kube-system";
export const LEASE_NAME = "kube-scheduler";

export interface SchedulerAppOptions {
  client: ApiClient;
  schedulerName?: string;
  /** Default true, as upstream. */
  leaderElect?: boolean;
  leaseNamespace?: string;
  leaseName?: string;
  /** Candidate identity; default `${hostname}_${uuid}` as upstream. */
  identity?: string;
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  log?: Logger;
  queue?: SchedulingQueueOptions;
  bindConcurrency?: number;
}

export type RunResult = "stopped" | "lost-leadership";

export class SchedulerApp {
  readonly scheduler: Scheduler;
  readonly pods: Informer<Pod>;
  readonly nodes: Informer<Node>;
  readonly events: EventRecorder;
  readonly identity: string;
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
    this.scheduler = new Scheduler({
      api: new ApiBinder(o.client),
      events: this.events,
      schedulerName,
      log: this.#log,
      ...(o.queue ? { queue: o.queue } : {}),
      ...(o.bindConcurrency ? { bindConcurrency: o.bindConcurrency } : {}),
    });
    this.pods = new Informer<Pod>(o.client, PODS, { log: this.#log.child({ module: "pod-informer" }) });
    this.nodes = new Informer<Node>(o.client, NODES, { log: this.#log.child({ module: "node-informer" }) });
    const s = this.scheduler;
    this.nodes.on("add", (n) => s.onNodeAdd(n));
    this.nodes.on("update", (old, cur) => s.onNodeUpdate(old, cur));
    this.nodes.on("delete", (n) => s.onNodeDelete(objectOf(n)));
    this.pods.on("add", (p) => s.onPodAdd(p));
    this.pods.on("update", (old, cur) => s.onPodUpdate(old, cur));
    this.pods.on("delete", (p) => s.onPodDelete(objectOf(p)));
  }

  /** True when this replica schedules (always, without leader election). */
  isLeader(): boolean {
    return this.#leading;
  }

  hasSynced(): boolean {
    return this.pods.hasSynced() && this.nodes.hasSynced();
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
    const running = Promise.all([
      this.pods.run(informers.signal).catch((err: unknown) => this.#log.error({ err }, "pod informer failed")),
      this.nodes.run(informers.signal).catch((err: unknown) => this.#log.error({ err }, "node informer failed")),
    ]);
    let result: RunResult = "stopped";
    try {
      await Promise.all([this.pods.waitForSync(signal), this.nodes.waitForSync(signal)]);
      if (signal.aborted) return result;
      this.#log.info({ nodes: this.nodes.list().length, pods: this.pods.list().length }, "caches synced");
      if (this.#o.leaderElect === false) {
        this.#leading = true;
        await this.scheduler.run(signal);
      } else {
        this.#elector = new LeaderElector(this.#o.client, {
          namespace: this.#o.leaseNamespace ?? LEASE_NAMESPACE,
          name: this.#o.leaseName ?? LEASE_NAME,
          identity: this.identity,
          log: this.#log,
          ...(this.#o.leaseDurationSeconds ? { leaseDurationSeconds: this.#o.leaseDurationSeconds } : {}),
          ...(this.#o.renewDeadlineSeconds ? { renewDeadlineSeconds: this.#o.renewDeadlineSeconds } : {}),
          ...(this.#o.retryPeriodSeconds ? { retryPeriodSeconds: this.#o.retryPeriodSeconds } : {}),
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

  /** metricsText: Prometheus exposition of the scheduler's counters and queue sizes. */
  metricsText(): string {
    const m = this.scheduler.metrics;
    const p = this.scheduler.queue.pending();
    const profile = `profile="${this.scheduler.schedulerName}"`;
    const lines = [
      "# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result.",
      "# TYPE scheduler_schedule_attempts_total counter",
      `scheduler_schedule_attempts_total{${profile},result="scheduled"} ${m.attempts.scheduled}`,
      `scheduler_schedule_attempts_total{${profile},result="unschedulable"} ${m.attempts.unschedulable}`,
      `scheduler_schedule_attempts_total{${profile},result="error"} ${m.attempts.error}`,
      "# HELP scheduler_pending_pods Number of pending pods, by the queue type.",
      "# TYPE scheduler_pending_pods gauge",
      `scheduler_pending_pods{queue="active"} ${p.active}`,
      `scheduler_pending_pods{queue="backoff"} ${p.backoff}`,
      `scheduler_pending_pods{queue="unschedulable"} ${p.unschedulable}`,
      "# HELP scheduler_binding_total Bindings sent, by the result.",
      "# TYPE scheduler_binding_total counter",
      `scheduler_binding_total{result="ok"} ${m.bindings.ok}`,
      `scheduler_binding_total{result="failed"} ${m.bindings.failed}`,
      "# HELP scheduler_scheduling_algorithm_duration_seconds_sum Time spent filtering and scoring.",
      "# TYPE scheduler_scheduling_algorithm_duration_seconds_sum counter",
      `scheduler_scheduling_algorithm_duration_seconds_sum ${m.schedulingSecondsSum.toFixed(6)}`,
      "# HELP scheduler_cache_size Number of nodes, pods and assumed pods in the scheduler cache.",
      "# TYPE scheduler_cache_size gauge",
      `scheduler_cache_size{type="nodes"} ${this.scheduler.cache.nodeCount}`,
      `scheduler_cache_size{type="pods"} ${this.scheduler.cache.podCount}`,
      `scheduler_cache_size{type="assumed_pods"} ${this.scheduler.cache.assumedCount}`,
      "# HELP leader_election_master_status Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
      "# TYPE leader_election_master_status gauge",
      `leader_election_master_status{name="${this.#o.leaseName ?? LEASE_NAME}"} ${this.#leading ? 1 : 0}`,
    ];
    return `${lines.join("\n")}\n`;
  }
}
