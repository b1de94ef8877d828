// Metrics through prom-client, one Registry per process (upstream: component-base/metrics'
// legacyregistry). Components take the Registry they register on, so tests can use their own.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export { Counter, Gauge, Histogram, Registry };

/** newRegistry: a process's registry, with prom-client's process_* and nodejs_* collectors. */
export function newRegistry(o: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (o.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Upstream's latency buckets for request durations (seconds). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Labels<T extends string> = Partial<Record<T, string | number>>;
type Series<T extends string> = Iterable<readonly [Labels<T>, number]>;

export interface FuncMetricOptions<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  registry: Registry;
  /** The current values, read at every scrape: a number, or one [labels, value] per series. */
  read: () => number | Series<T>;
}

function declaration<T extends string>(o: FuncMetricOptions<T>) {
  return { name: o.name, help: o.help, labelNames: o.labelNames ?? [], registers: [o.registry] };
}

/** put hands every series read() returns to set, after the metric was reset. */
function put<T extends string>(o: FuncMetricOptions<T>, set: (labels: Labels<T>, n: number) => void): void {
  const v = o.read();
  if (typeof v === "number") set({}, v);
  else for (const [labels, n] of v) set(labels, n);
}

/**
 * gaugeFunc: client_golang's NewGaugeFunc, a gauge whose values are read from the component's own
 * state when scraped (queue lengths, cache sizes, leadership), so nothing is kept twice.
 */
export function gaugeFunc<T extends string = string>(o: FuncMetricOptions<T>): Gauge<T> {
  return new Gauge<T>({
    ...declaration(o),
    collect() {
      this.reset();
      put(o, (labels, n) => this.set(labels, n));
    },
  });
}

/** counterFunc: client_golang's NewCounterFunc, a counter read from a monotonic count when scraped. */
export function counterFunc<T extends string = string>(o: FuncMetricOptions<T>): Counter<T> {
  return new Counter<T>({
    ...declaration(o),
    collect() {
      this.reset();
      put(o, (labels, n) => this.inc(labels, n));
    },
  });
}
