// Workqueue metrics under client-go's names (workqueue/metrics.go), labelled name="<queue>":
// workqueue_depth, workqueue_adds_total, workqueue_retries_total, workqueue_queue_duration_seconds
// (add → get), workqueue_work_duration_seconds (get → done), and, read at each scrape from the
// keys being processed, workqueue_unfinished_work_seconds (their summed age: grows while a worker is
// stuck) and workqueue_longest_running_processor_seconds (the oldest one). A queue reports them only when it
// has a name and a provider: its own (WorkQueueOptions.metricsProvider) or the process-wide one
// set with setWorkQueueMetricsProvider (upstream's workqueue.SetProvider), so controllers need
// not pass the registry to every queue they make.

import { type Clock, realClock } from "#pkg/runtime/clock.js";
import { Counter, Gauge, gaugeFunc, Histogram, type Registry } from "#pkg/runtime/metrics.js";

/** What a queue reports; times are the queue's clock in milliseconds. */
export interface WorkQueueMetrics {
  /** key became dirty (queued, or re-added while processing). */
  add(key: string, now: number): void;
  /** key was handed to a worker. */
  get(key: string, now: number): void;
  /** the worker finished key. */
  done(key: string, now: number): void;
  /** key was re-added through the rate limiter. */
  retry(): void;
}

export interface WorkQueueMetricsProvider {
  newMetrics(name: string): WorkQueueMetrics;
}

/** client-go's buckets: ExponentialBuckets(10e-9, 10, 10), 10 ns .. 10 s. */
const DURATION_BUCKETS = Array.from({ length: 10 }, (_, i) => 1e-8 * 10 ** i);

/** The Prometheus provider: one set of metrics per registry, one series per queue name. */
export class PrometheusWorkQueueMetricsProvider implements WorkQueueMetricsProvider {
  readonly #depth: Gauge<"name">;
  readonly #adds: Counter<"name">;
  readonly #retries: Counter<"name">;
  readonly #queueDuration: Histogram<"name">;
  readonly #workDuration: Histogram<"name">;
  /** Per queue name: key → when a worker got it, in the queues' clock. */
  readonly #processing = new Map<string, Map<string, number>>();

  /** clock: the one the queues use (their times are compared with its now() at scrape). */
  constructor(registry: Registry, clock: Clock = realClock) {
    const registers = [registry];
    const labelNames = ["name"] as const;
    this.#depth = new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue", labelNames, registers });
    this.#adds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames,
      registers,
    });
    this.#retries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames,
      registers,
    });
    this.#queueDuration = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested.",
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes.",
      labelNames,
      buckets: DURATION_BUCKETS,
      registers,
    });
    const processing = this.#processing;
    const inProgress = (sum: (starts: Iterable<number>, now: number) => number) =>
      function* () {
        const now = clock.now();
        for (const [name, starts] of processing) yield [{ name }, sum(starts.values(), now)] as const;
      };
    gaugeFunc({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.",
      labelNames,
      registry,
      read: inProgress((starts, now) => {
        let total = 0;
        for (const t of starts) total += (now - t) / 1000;
        return total;
      }),
    });
    gaugeFunc({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running.",
      labelNames,
      registry,
      read: inProgress((starts, now) => {
        let oldest = now;
        for (const t of starts) oldest = Math.min(oldest, t);
        return (now - oldest) / 1000;
      }),
    });
  }

  newMetrics(name: string): WorkQueueMetrics {
    const labels = { name };
    const depth = this.#depth.labels(labels);
    const adds = this.#adds.labels(labels);
    const retries = this.#retries.labels(labels);
    const queueDuration = this.#queueDuration.labels(labels);
    const workDuration = this.#workDuration.labels(labels);
    // Series exist (at 0) from the queue's creation, as upstream's.
    depth.set(0);
    adds.inc(0);
    retries.inc(0);
    const addTimes = new Map<string, number>();
    const startTimes = this.#processing.get(name) ?? new Map<string, number>();
    this.#processing.set(name, startTimes);
    return {
      add(key, now) {
        adds.inc();
        depth.inc();
        if (!addTimes.has(key)) addTimes.set(key, now);
      },
      get(key, now) {
        depth.dec();
        startTimes.set(key, now);
        const added = addTimes.get(key);
        if (added !== undefined) {
          queueDuration.observe((now - added) / 1000);
          addTimes.delete(key);
        }
      },
      done(key, now) {
        const started = startTimes.get(key);
        if (started === undefined) return;
        workDuration.observe((now - started) / 1000);
        startTimes.delete(key);
      },
      retry() {
        retries.inc();
      },
    };
  }
}

let globalProvider: WorkQueueMetricsProvider | undefined;

/** Sets the provider named queues made from now on report to (main.ts calls it once per process). */
export function setWorkQueueMetricsProvider(p: WorkQueueMetricsProvider | undefined): void {
  globalProvider = p;
}

/** The metrics for a new queue: none without a name or a provider. */
export function workQueueMetrics(name: string, own?: WorkQueueMetricsProvider): WorkQueueMetrics | undefined {
  const p = own ?? globalProvider;
  return name && p ? p.newMetrics(name) : undefined;
}
