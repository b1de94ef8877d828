// Prometheus metrics of the API server through prom-client (pkg/runtime/metrics.ts), with
// upstream's names and labels: apiserver_request_total{verb,group,resource,code},
// apiserver_request_duration_seconds{verb,group,resource} (a histogram; watches excluded, their
// duration is their lifetime), apiserver_longrunning_requests{verb="WATCH"} (open watches) and
// apiserver_current_inflight_requests{request_kind} (what the max-in-flight limits count), plus
// prom-client's process_* and nodejs_* collectors. One Registry per process: main.ts
// passes its own; buildServer() without one gets a fresh registry (tests run many servers).

import { Counter, Gauge, gaugeFunc, Histogram, newRegistry, type Registry } from "#pkg/runtime/metrics.js";

/** The request-duration buckets kubeling has always exposed (seconds). */
const DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type RequestLabel = "verb" | "group" | "resource" | "code";
type DurationLabel = "verb" | "group" | "resource";

export class ApiMetrics {
  readonly registry: Registry;
  readonly #requests: Counter<RequestLabel>;
  readonly #durations: Histogram<DurationLabel>;
  /** The WATCH child of apiserver_longrunning_requests, bound once so a watch allocates no labels. */
  readonly #watches: { inc(): void; dec(): void };

  constructor(registry: Registry = newRegistry()) {
    this.registry = registry;
    const registers = [registry];
    this.#requests = new Counter({
      name: "apiserver_request_total",
      help: "Counter of apiserver requests broken out by verb, group, resource and HTTP code.",
      labelNames: ["verb", "group", "resource", "code"],
      registers,
    });
    this.#durations = new Histogram({
      name: "apiserver_request_duration_seconds",
      help: "Response latency distribution in seconds for each verb, group and resource.",
      labelNames: ["verb", "group", "resource"],
      buckets: DURATION_BUCKETS,
      registers,
    });
    const longrunning = new Gauge({
      name: "apiserver_longrunning_requests",
      help: "Number of open watch requests.",
      labelNames: ["verb"],
      registers,
    });
    const watch = longrunning.labels("WATCH");
    watch.set(0);
    this.#watches = { inc: () => watch.inc(), dec: () => watch.dec() };
  }

  /** inflightFrom reports the in-flight counts the max-in-flight filter keeps (upstream's request kinds). */
  inflightFrom(read: () => { readonly: number; mutating: number }): void {
    gaugeFunc({
      name: "apiserver_current_inflight_requests",
      help: "Number of requests in flight, by request kind (long-running requests excluded).",
      labelNames: ["request_kind"],
      registry: this.registry,
      read: () => {
        const n = read();
        return [
          [{ request_kind: "readOnly" }, n.readonly],
          [{ request_kind: "mutating" }, n.mutating],
        ];
      },
    });
  }

  /** observe records one finished request (watches: when the stream starts). */
  observe(verb: string, group: string, resource: string, code: number, seconds: number): void {
    this.#requests.inc({ verb, group, resource, code });
    if (verb === "WATCH") return; // a watch's duration is its lifetime, not latency
    this.#durations.observe({ verb, group, resource }, seconds);
  }

  watchStarted(): void {
    this.#watches.inc();
  }

  watchEnded(): void {
    this.#watches.dec();
  }

  /** The Content-Type of render()'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** render returns the registry's Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
