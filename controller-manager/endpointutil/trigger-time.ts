// TriggerTimeTracker (upstream pkg/controller/util/endpoint/trigger_time_tracker.go): the time of
// the change that made a Service's endpoints change, for the
// endpoints.kubernetes.io/last-change-trigger-time annotation (what kube-proxy's
// network-programming-latency metric measures from). For a Service first seen it is the
// Service's creation; later the earliest of the trigger times that moved since the last sync,
// a pod's being its Ready condition's last transition.

import type { Pod, Service } from "#pkg/api/types/core.js";

/** The annotation the Endpoints controller (and the slices' controllers) set. */
export const LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";

interface State {
  pods: Map<string, number>;
  service: number;
}

const parse = (t: string | undefined) => (t ? Date.parse(t) : Number.NaN);

function podTriggerTime(pod: Pod): number {
  return parse(pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime);
}

export class TriggerTimeTracker {
  readonly #states = new Map<string, State>();

  /**
   * compute: the trigger time (ms since the epoch) for the Service's endpoints given the pods it
   * selects now, or undefined when nothing that counts changed. Records the state for next time;
   * restore() puts the previous state back, for a sync whose write failed (so that its retry
   * still reports the change, where upstream's would clear the annotation).
   */
  compute(svc: Service, pods: readonly Pod[]): { time: number | undefined; restore: () => void } {
    const key = `${svc.metadata.namespace ?? ""}/${svc.metadata.name ?? ""}`;
    const state = this.#states.get(key);
    const restore = () => {
      if (state) this.#states.set(key, state);
      else this.#states.delete(key);
    };
    return { time: this.#computeFrom(key, state, svc, pods), restore };
  }

  #computeFrom(key: string, state: State | undefined, svc: Service, pods: readonly Pod[]): number | undefined {
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = podTriggerTime(pod);
      if (Number.isNaN(t)) continue;
      const name = pod.metadata.name ?? "";
      podTimes.set(name, t);
      const last = state?.pods.get(name);
      if (last === undefined || t > last) min = min === undefined ? t : Math.min(min, t);
    }
    const serviceTime = parse(svc.metadata.creationTimestamp);
    if (!Number.isNaN(serviceTime) && (state === undefined || serviceTime > state.service))
      min = min === undefined ? serviceTime : Math.min(min, serviceTime);
    this.#states.set(key, { pods: podTimes, service: Number.isNaN(serviceTime) ? 0 : serviceTime });
    if (!state) return Number.isNaN(serviceTime) ? undefined : serviceTime;
    return min;
  }

  /** Forgets a deleted Service. */
  delete(namespace: string, name: string): void {
    this.#states.delete(`${namespace}/${name}`);
  }
}

/** The annotation's value: RFC 3339 with nanoseconds, as Go's time.RFC3339Nano prints (trailing zeros dropped). */
export function formatTriggerTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.?0+Z$/, "Z")
    .replace(/\.Z$/, "Z");
}
