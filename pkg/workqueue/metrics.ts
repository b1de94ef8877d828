// Workqueue metrics under client-go's names (workqueue/metrics.go), labelled name="<queue>":
// workqueue_depth, workqueue_adds_total, workqueue_retries_total, workqueue_queue_duration_seconds
// (add → get) and workqueue_work_duration_seconds (get → done). A queue reports them only when it
// has a name and a provider: its own (WorkQueueOptions.metricsProvider) or the process-wide one
// set with setWorkQueueMetricsProvider (upstream's workqueue.SetProvider), so controllers need
// not pass the registry to every queue they make.

import { Counter, Gauge, Histogram, type Registry } from "#pkg/runtime/metrics.js";

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

  constructor(registry: Registry) {
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
    const startTimes = new Map<string, number>();
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
