// ProbeManager: one loop per (running container, probe kind), as upstream's prober workers.
// Results are kept per container id; a change wakes the pod's worker, which turns a liveness or
// startup failure into a restart and readiness into the Ready condition.

import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { Container, Pod, Probe } from "#pkg/api/types/index.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { sleep, until } from "#pkg/runtime/wait.js";
import type { Runtime } from "./runtime/runtime.js";

export type ProbeKind = "liveness" | "readiness" | "startup";

export interface ProbeResult {
  ok: boolean;
  message: string;
}

interface ProbeWorker {
  abort: AbortController;
}

export interface ContainerProbeState {
  ready?: boolean;
  started?: boolean;
  /** Set when liveness (or startup) crossed its failure threshold; the pod worker restarts the container. */
  killRequested?: { kind: ProbeKind; message: string };
}

export interface ProbeManagerOptions {
  runtime: Runtime;
  log: Logger;
  onChange: (podUid: string) => void;
  onUnhealthy: (pod: Pod, container: string, kind: ProbeKind, message: string) => void;
  clock?: Clock;
}

function resolvePort(c: Container, port: number | string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`port "${port}" not found in container ${c.name}`);
  return p.containerPort;
}

/** runProbe executes one probe attempt against a container. */
export async function runProbe(
  runtime: Runtime,
  probe: Probe,
  c: Container,
  containerId: string,
  podIP: string,
): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  try {
    if (probe.exec) {
      const r = await runtime.execSync(containerId, probe.exec.command ?? [], timeoutMs);
      return r.exitCode === 0
        ? { ok: true, message: "" }
        : {
            ok: false,
            message: `command ${JSON.stringify(probe.exec.command)} exited with ${r.exitCode}: ${r.output.trim()}`,
          };
    }
    if (probe.httpGet) {
      const g = probe.httpGet;
      const port = resolvePort(c, g.port);
      const host = g.host || podIP;
      const scheme = (g.scheme ?? "HTTP").toUpperCase();
      const path = g.path ?? "/";
      const headers: Record<string, string> = { "User-Agent": "kube-probe/1.33" };
      for (const h of g.httpHeaders ?? []) headers[h.name] = h.value;
      const code = await new Promise<number>((resolve, reject) => {
        const mod = scheme === "HTTPS" ? https : http;
        const req = mod.request(
          { host, port, path, method: "GET", headers, timeout: timeoutMs, rejectUnauthorized: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
        req.on("error", reject);
        req.end();
      });
      const url = `${scheme.toLowerCase()}://${host}:${port}${path}`;
      return code >= 200 && code < 400
        ? { ok: true, message: "" }
        : { ok: false, message: `HTTP probe failed with statuscode: ${code} (${url})` };
    }
    if (probe.tcpSocket) {
      const port = resolvePort(c, probe.tcpSocket.port);
      const host = probe.tcpSocket.host || podIP;
      await new Promise<void>((resolve, reject) => {
        const s = net.connect({ host, port, timeout: timeoutMs });
        s.once("connect", () => {
          s.destroy();
          resolve();
        });
        s.once("timeout", () => {
          s.destroy();
          reject(new Error(`dial tcp ${host}:${port}: i/o timeout`));
        });
        s.once("error", reject);
      });
      return { ok: true, message: "" };
    }
    return { ok: true, message: "" };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

export class ProbeManager {
  private readonly workers = new Map<string, ProbeWorker>();
  private readonly state = new Map<string, ContainerProbeState>();

  constructor(private readonly o: ProbeManagerOptions) {}

  get(containerId: string): ContainerProbeState {
    return this.state.get(containerId) ?? {};
  }

  /**
   * sync makes the probe loops match the pod's running containers: start loops for new
   * containers, stop those whose container is gone.
   */
  sync(pod: Pod, running: { id: string; spec: Container }[], podIP: string): void {
    const uid = pod.metadata.uid ?? "";
    const want = new Set<string>();
    for (const { id, spec } of running) {
      const kinds: [ProbeKind, Probe | undefined][] = [
        ["startup", spec.startupProbe],
        ["liveness", spec.livenessProbe],
        ["readiness", spec.readinessProbe],
      ];
      for (const [kind, probe] of kinds) {
        if (!probe) continue;
        const key = `${uid}/${id}/${kind}`;
        want.add(key);
        if (!this.workers.has(key)) {
          const abort = new AbortController();
          this.workers.set(key, { abort });
          if (!this.state.has(id)) this.state.set(id, {});
          void this.loop(pod, spec, id, podIP, kind, probe, abort);
        }
      }
    }
    for (const [key, w] of this.workers) {
      if (key.startsWith(`${uid}/`) && !want.has(key)) {
        w.abort.abort();
        this.workers.delete(key);
      }
    }
    const ids = new Set(running.map((r) => r.id));
    for (const id of this.state.keys()) {
      if (!ids.has(id) && ![...this.workers.keys()].some((k) => k.includes(`/${id}/`))) this.state.delete(id);
    }
  }

  /** removePod stops every probe loop of a pod. */
  removePod(uid: string): void {
    this.sync({ metadata: { uid } } as Pod, [], "");
  }

  stopAll(): void {
    for (const w of this.workers.values()) w.abort.abort();
    this.workers.clear();
  }

  private async loop(
    pod: Pod,
    spec: Container,
    id: string,
    podIP: string,
    kind: ProbeKind,
    probe: Probe,
    abort: AbortController,
  ): Promise<void> {
    const signal = abort.signal;
    const uid = pod.metadata.uid ?? "";
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const failureThreshold = probe.failureThreshold ?? 3;
    const successThreshold = probe.successThreshold ?? 1;
    let successes = 0;
    let failures = 0;
    const log = this.o.log.child({
      pod: `${pod.metadata.namespace}/${pod.metadata.name}`,
      container: spec.name,
      probe: kind,
    });
    const clock = this.o.clock ?? realClock;
    await sleep((probe.initialDelaySeconds ?? 0) * 1000, signal, clock);
    await until(
      async () => {
        const st = this.state.get(id);
        if (!st) {
          // The container is gone: this worker is done.
          abort.abort();
          return;
        }
        // Liveness and readiness wait until the startup probe has passed.
        const gated = kind !== "startup" && spec.startupProbe && !st.started;
        if (!gated && !(kind === "startup" && st.started)) {
          const r = await runProbe(this.o.runtime, probe, spec, id, podIP);
          if (signal.aborted) return;
          if (r.ok) {
            successes++;
            failures = 0;
          } else {
            failures++;
            successes = 0;
            log.debug({ message: r.message, failures }, "probe failed");
            this.o.onUnhealthy(pod, spec.name, kind, r.message);
          }
          let changed = false;
          if (kind === "readiness") {
            if (r.ok && successes >= successThreshold && st.ready !== true) {
              st.ready = true;
              changed = true;
            } else if (!r.ok && failures >= failureThreshold && st.ready !== false) {
              st.ready = false;
              changed = true;
            } else if (st.ready === undefined && !r.ok) {
              st.ready = false;
              changed = true;
            }
          } else if (kind === "startup") {
            if (r.ok) {
              st.started = true;
              changed = true;
            } else if (failures >= failureThreshold && !st.killRequested) {
              st.killRequested = { kind, message: r.message };
              changed = true;
            }
          } else if (!r.ok && failures >= failureThreshold && !st.killRequested) {
            st.killRequested = { kind, message: r.message };
            changed = true;
          }
          if (changed) this.o.onChange(uid);
        }
      },
      periodMs,
      signal,
      { clock },
    );
  }
}
