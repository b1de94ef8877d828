// The kubelet's metrics (upstream pkg/kubelet/metrics), on the process's prom-client registry.
// Names are the ones kubeling has always served; tests and dashboards read them.

import { Counter, Gauge, type Registry } from "#pkg/runtime/metrics.js";
import type { ContainerInfo } from "./runtime/runtime.js";

export class KubeletMetrics {
  readonly plegRelists: Counter;
  readonly podSyncs: Counter;
  readonly podSyncErrors: Counter;
  readonly containerStarts: Counter;
  readonly containerStartErrors: Counter;
  readonly probeKills: Counter;

  /** `runtime` is the PLEG's newest list; the gauges are computed from it at scrape time. */
  constructor(registry: Registry, runtime: () => ContainerInfo[]) {
    const registers = [registry];
    const running = () => runtime().filter((c) => c.state === "running");
    new Gauge({
      name: "kubelet_running_pods",
      help: "Number of pods that have a running pod sandbox.",
      registers,
      collect() {
        this.set(running().filter((c) => c.type === "sandbox").length);
      },
    });
    new Gauge({
      name: "kubelet_running_containers",
      help: "Number of running containers.",
      labelNames: ["container_state"],
      registers,
      collect() {
        this.set({ container_state: "running" }, running().filter((c) => c.type !== "sandbox").length);
      },
    });
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    this.plegRelists = counter("kubelet_pleg_relists_total", "Runtime relists done by the PLEG.");
    this.podSyncs = counter("kubelet_pod_syncs_total", "syncPod runs.");
    this.podSyncErrors = counter("kubelet_pod_sync_errors_total", "syncPod runs that failed and were retried.");
    this.containerStarts = counter("kubelet_container_starts_total", "Containers started.");
    this.containerStartErrors = counter(
      "kubelet_container_start_errors_total",
      "Container creates or starts that failed.",
    );
    this.probeKills = counter(
      "kubelet_probe_kills_total",
      "Containers killed for failing a liveness or startup probe.",
    );
  }
}
