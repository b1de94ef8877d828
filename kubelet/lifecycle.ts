// Container lifecycle hooks (upstream pkg/kubelet/lifecycle and kuberuntime's killContainer):
// postStart runs right after a container starts and a failure kills the container; preStop runs
// before the stop signal and its time counts against the grace period.

import type { Container, Pod } from "#pkg/api/types/index.js";
import type { Clock } from "#pkg/runtime/clock.js";
import { type ProbeResult, runProbe } from "./prober.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";
import type { EventSink } from "./sources.js";

export type LifecycleHandler = NonNullable<NonNullable<Container["lifecycle"]>["preStop"]>;

/** Upstream bounds postStart by the container's start; we give it this long. */
const POST_START_TIMEOUT_MS = 30_000;

export interface LifecycleOptions {
  runtime: Runtime;
  events: EventSink;
  clock: Clock;
  signal: AbortSignal;
}

export class Lifecycle {
  constructor(private readonly o: LifecycleOptions) {}

  /** runHandler executes a handler (exec, httpGet, tcpSocket or sleep) with a deadline. */
  async runHandler(
    hook: LifecycleHandler,
    spec: Container,
    containerId: string,
    podIP: string,
    timeoutMs: number,
  ): Promise<ProbeResult> {
    if (hook.sleep) {
      await this.o.clock.sleep(Math.min(hook.sleep.seconds * 1000, timeoutMs), this.o.signal);
      return { ok: true, message: "" };
    }
    const probe = { ...hook, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) };
    return runProbe(this.o.runtime, probe, spec, containerId, podIP);
  }

  /** postStart runs the container's postStart hook, if any; a failure kills the container. */
  async postStart(pod: Pod, c: Container, containerId: string, podIP: string): Promise<void> {
    const hook = c.lifecycle?.postStart;
    if (!hook) return;
    const r = await this.runHandler(hook, c, containerId, podIP, POST_START_TIMEOUT_MS);
    if (r.ok) return;
    this.o.events.event(pod, "Warning", "FailedPostStartHook", `PostStartHook failed: ${r.message}`);
    await this.o.runtime.stopContainer(containerId, 0);
  }

  /**
   * killContainer runs the container's preStop hook (its time counts against the grace period,
   * as upstream), then stops it: SIGTERM, SIGKILL after the rest of the grace period.
   */
  async killContainer(pod: Pod, c: ContainerInfo, graceSeconds: number, podIP: string): Promise<void> {
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === c.name);
    const hook = spec?.lifecycle?.preStop;
    const t0 = this.o.clock.now();
    if (hook && spec && c.state === "running" && graceSeconds > 0) {
      const r = await this.runHandler(hook, spec, c.id, podIP, graceSeconds * 1000);
      if (!r.ok) this.o.events.event(pod, "Warning", "FailedPreStopHook", `PreStopHook failed: ${r.message}`);
    }
    const left = Math.max(0, graceSeconds - Math.floor((this.o.clock.now() - t0) / 1000));
    await this.o.runtime.stopContainer(c.id, left);
  }
}
