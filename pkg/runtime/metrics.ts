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
