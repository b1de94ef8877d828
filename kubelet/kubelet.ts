// Kubelet: watches the pods bound to its node and makes Docker match them. syncPod is the
// "transaction script for the sync of a single pod" (pkg/kubelet/kubelet.go): level-triggered,
// idempotent, re-run on any change (informer event, runtime event, probe result, backoff
// expiry, periodic resync). It rebuilds all it needs from the informer cache and from the
// runtime's labels, so a restarted kubelet adopts running containers without restarting them.

import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { type ResourceInfo, registry } from "#pkg/api/resources.js";
import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Backoff } from "./backoff.js";
import { generatePodStatus, instancesOf, type Waiting } from "./pod-status.js";
import { PodWorkers, type SyncResult } from "./pod-workers.js";
import { type ProbeKind, ProbeManager, runProbe } from "./prober.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";
import type { EventSink, PodSource } from "./sources.js";
import {
  buildEnv,
  type DNSOptions,
  expandVars,
  hashContainer,
  limits,
  podDNS,
  pullPolicy,
  serviceEnv,
} from "./spec.js";
import { StatusManager } from "./status-manager.js";
import { VolumeError, type VolumeManager } from "./volumes.js";

const info = (name: string): ResourceInfo => registry.mustLookup(name);

export interface KubeletOptions {
  client: ApiClient;
  /** Pods bound to this node (an Informer with fieldSelector spec.nodeName=<node>). */
  pods: PodSource;
  events: EventSink;
  runtime: Runtime;
  log: Logger;
  nodeName: string;
  nodeIP: string;
  podInfraImage: string;
  crashLoopBackoffBaseMs?: number;
  crashLoopBackoffMaxMs?: number;
  imagePullBackoffBaseMs?: number;
  imagePullBackoffMaxMs?: number;
  relistPeriodMs?: number;
  resyncMs?: number;
  /** Container creates+starts allowed in flight (PERF C2: Docker tops out near 10 starts/s). */
  maxParallelStarts?: number;
  /** Pod volumes live under <rootDir>/pods/<uid>. */
  volumes: VolumeManager;
  /** --cluster-dns / --cluster-domain. */
  dns?: DNSOptions;
}

class Semaphore {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }
}

const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
const k8sNow = () => `${new Date().toISOString().slice(0, 19)}Z`;

export class Kubelet {
  readonly pods: PodSource;
  private readonly byUid = new Map<string, Pod>();
  private readonly workers: PodWorkers;
  private readonly status: StatusManager;
  private readonly probes: ProbeManager;
  private readonly events: EventSink;
  private readonly crashBackoff: Backoff;
  private readonly pullBackoff: Backoff;
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  /** image → time of the last failed pull, so a locally present image is not re-pulled on every start. */
  private readonly pullFailedAt = new Map<string, number>();
  private readonly imageRefs = new Map<string, string>();
  private readonly starts: Semaphore;
  private readonly log: Logger;
  private runtimeCache: ContainerInfo[] = [];
  private listing?: { startedAt: number; p: Promise<ContainerInfo[]> };
  private readonly signal: AbortSignal;
  private readonly abort = new AbortController();
  /** Pods whose termination (kill + delete) is in progress; never restart their containers. */
  private readonly terminating = new Set<string>();
  /** Host paths of each pod's volumes, from the last setup. */
  private readonly podVolumes = new Map<string, Map<string, string>>();
  /** Pods this process has synced at least once (to log adoption after a restart). */
  private readonly seen = new Set<string>();

  constructor(private readonly o: KubeletOptions) {
    this.log = o.log;
    this.signal = this.abort.signal;
    this.pods = o.pods;
    this.workers = new PodWorkers(
      async (uid) => {
        this.counters.podSyncs++;
        try {
          return await this.syncPod(uid);
        } catch (err) {
          this.counters.podSyncErrors++;
          throw err;
        }
      },
      {
        log: o.log,
        signal: this.signal,
        resyncMs: o.resyncMs ?? 10_000,
      },
    );
    this.status = new StatusManager({ client: o.client, log: o.log.child({ module: "status" }) });
    this.events = o.events;
    this.probes = new ProbeManager({
      runtime: o.runtime,
      log: o.log.child({ module: "prober" }),
      onChange: (uid) => this.workers.wake(uid),
      onUnhealthy: (pod, _container, kind, message) =>
        this.events.event(pod, "Warning", "Unhealthy", `${capitalize(kind)} probe failed: ${message}`),
    });
    this.crashBackoff = new Backoff(o.crashLoopBackoffBaseMs ?? 10_000, o.crashLoopBackoffMaxMs ?? 300_000);
    this.pullBackoff = new Backoff(o.imagePullBackoffBaseMs ?? 10_000, o.imagePullBackoffMaxMs ?? 300_000);
    this.starts = new Semaphore(o.maxParallelStarts ?? 6);

    this.pods.on("add", (p) => this.onPod(p));
    this.pods.on("update", (_old, p) => this.onPod(p));
    this.pods.on("delete", (p) => {
      // A tombstone (missed delete) carries the last known object.
      const pod = "metadata" in p ? (p as Pod) : (p.lastKnown ?? p.obj);
      const uid = pod?.metadata.uid;
      if (!uid) return;
      this.byUid.delete(uid);
      this.workers.wake(uid);
    });
  }

  private onPod(p: Pod): void {
    const uid = p.metadata.uid;
    if (!uid) return;
    this.byUid.set(uid, p);
    this.workers.wake(uid);
  }

  /** Counters for /metrics. */
  readonly counters = {
    plegRelists: 0,
    podSyncs: 0,
    podSyncErrors: 0,
    containerStarts: 0,
    containerStartErrors: 0,
    probeKills: 0,
  };
  private readonly lastCpu = new Map<string, { t: number; usage: number }>();

  /**
   * summary is the kubelet's /stats/summary (upstream's Summary API shape, the fields metrics
   * consumers read): per-pod, per-container CPU and memory, and the node's totals. CPU rates
   * need two samples; a container seen for the first time is sampled twice, 200 ms apart.
   */
  async summary(): Promise<object> {
    const list = await this.freshList();
    const running = list.filter((c) => c.type !== "sandbox" && c.state === "running");
    const sample = async (ids: string[]) => {
      const st = await this.o.runtime.stats(ids);
      return { at: Date.now(), st };
    };
    let first = await sample(running.map((c) => c.id));
    const fresh = running.filter((c) => !this.lastCpu.has(c.id) && first.st.has(c.id));
    if (fresh.length > 0) {
      for (const c of fresh)
        this.lastCpu.set(c.id, { t: first.at, usage: first.st.get(c.id)?.cpuUsageCoreNanoSeconds ?? 0 });
      await sleep(200, this.signal);
      first = await sample(running.map((c) => c.id));
    }
    const rate = (key: string, usage: number, at: number): number => {
      const prev = this.lastCpu.get(key);
      this.lastCpu.set(key, { t: at, usage });
      if (!prev || at <= prev.t) return 0;
      return Math.max(0, Math.round((usage - prev.usage) / ((at - prev.t) / 1000)));
    };
    for (const id of [...this.lastCpu.keys()])
      if (!id.startsWith("node") && !running.some((c) => c.id === id)) this.lastCpu.delete(id);
    const time = new Date(first.at).toISOString();
    const byPod = new Map<string, ContainerInfo[]>();
    for (const c of running) byPod.set(c.podUid, [...(byPod.get(c.podUid) ?? []), c]);
    const pods = [...byPod].map(([uid, cs]) => {
      const containers = cs
        .filter((c) => first.st.has(c.id))
        .map((c) => {
          const st = first.st.get(c.id) as { cpuUsageCoreNanoSeconds: number; memoryWorkingSetBytes: number };
          return {
            name: c.name,
            startTime: c.startedAt,
            cpu: {
              time,
              usageNanoCores: rate(c.id, st.cpuUsageCoreNanoSeconds, first.at),
              usageCoreNanoSeconds: st.cpuUsageCoreNanoSeconds,
            },
            memory: { time, workingSetBytes: st.memoryWorkingSetBytes },
          };
        });
      const sum = (f: (x: (typeof containers)[number]) => number) => containers.reduce((a, x) => a + f(x), 0);
      return {
        podRef: { name: cs[0]?.podName, namespace: cs[0]?.podNamespace, uid },
        containers,
        cpu: {
          time,
          usageNanoCores: sum((x) => x.cpu.usageNanoCores),
          usageCoreNanoSeconds: sum((x) => x.cpu.usageCoreNanoSeconds),
        },
        memory: { time, workingSetBytes: sum((x) => x.memory.workingSetBytes) },
      };
    });
    const nodeCpu = await nodeCpuUsage();
    return {
      node: {
        nodeName: this.o.nodeName,
        cpu: { time, usageNanoCores: rate("node", nodeCpu, first.at), usageCoreNanoSeconds: nodeCpu },
        memory: { time, workingSetBytes: os.totalmem() - os.freemem(), availableBytes: os.freemem() },
      },
      pods,
    };
  }

  /** metricsText: Prometheus text exposition of the kubelet's gauges and counters. */
  metricsText(): string {
    const running = this.runtimeCache.filter((c) => c.state === "running");
    const lines = [
      "# HELP kubelet_running_pods Number of pods that have a running pod sandbox.",
      "# TYPE kubelet_running_pods gauge",
      `kubelet_running_pods ${running.filter((c) => c.type === "sandbox").length}`,
      "# HELP kubelet_running_containers Number of running containers.",
      "# TYPE kubelet_running_containers gauge",
      `kubelet_running_containers{container_state="running"} ${running.filter((c) => c.type !== "sandbox").length}`,
      "# HELP kubelet_pleg_relists_total Runtime relists done by the PLEG.",
      "# TYPE kubelet_pleg_relists_total counter",
      `kubelet_pleg_relists_total ${this.counters.plegRelists}`,
      "# HELP kubelet_pod_syncs_total syncPod runs.",
      "# TYPE kubelet_pod_syncs_total counter",
      `kubelet_pod_syncs_total ${this.counters.podSyncs}`,
      "# HELP kubelet_pod_sync_errors_total syncPod runs that failed and were retried.",
      "# TYPE kubelet_pod_sync_errors_total counter",
      `kubelet_pod_sync_errors_total ${this.counters.podSyncErrors}`,
      "# HELP kubelet_container_starts_total Containers started.",
      "# TYPE kubelet_container_starts_total counter",
      `kubelet_container_starts_total ${this.counters.containerStarts}`,
      "# HELP kubelet_container_start_errors_total Container creates or starts that failed.",
      "# TYPE kubelet_container_start_errors_total counter",
      `kubelet_container_start_errors_total ${this.counters.containerStartErrors}`,
      "# HELP kubelet_probe_kills_total Containers killed for failing a liveness or startup probe.",
      "# TYPE kubelet_probe_kills_total counter",
      `kubelet_probe_kills_total ${this.counters.probeKills}`,
    ];
    return `${lines.join("\n")}\n`;
  }

  /**
   * syncNow wakes the pod's worker and resolves once no worker is running (tests, and callers
   * that need the effect of one sync before they go on). It never runs syncPod itself, so the
   * one-worker-per-pod rule holds.
   */
  async syncNow(uid: string): Promise<void> {
    this.workers.wake(uid);
    while (this.workers.busy) await new Promise((r) => setTimeout(r, 2));
  }

  /** getPod: the informer's view of a pod of this node (for the kubelet server). */
  getPod(ns: string, name: string): Pod | undefined {
    return this.pods.get(`${ns}/${name}`);
  }

  /** containerFor: the newest runtime container of a pod's container (for logs/exec). */
  async containerFor(pod: Pod, name: string, previous = false): Promise<ContainerInfo | undefined> {
    const list = (await this.freshList()).filter((c) => c.podUid === pod.metadata.uid);
    const isInit = pod.spec?.initContainers?.some((c) => c.name === name);
    const inst = instancesOf(list, name, isInit ? "init" : "app");
    return previous ? inst[1] : inst[0];
  }

  /** podIP of a running pod's sandbox. */
  async podIP(pod: Pod): Promise<string | undefined> {
    const list = await this.freshList();
    return this.sandboxOf(list.filter((c) => c.podUid === pod.metadata.uid))?.ip;
  }

  /**
   * run starts the informer, the PLEG (runtime events + relist) and housekeeping, and resolves
   * when the signal aborts and work has stopped.
   */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => this.abort.abort(), { once: true });
    await this.o.runtime.ensureNetwork();
    this.runtimeCache = await this.o.runtime.list();
    const informerDone = this.pods.run(this.signal);
    await this.pods.waitForSync(this.signal);
    this.log.info({ pods: this.pods.list().length, containers: this.runtimeCache.length }, "pod cache synced");
    // Pods known only to the runtime (deleted while we were down) get a worker too, which removes them.
    for (const c of this.runtimeCache) if (!this.byUid.has(c.podUid)) this.workers.wake(c.podUid);
    for (const uid of await this.o.volumes.podUids()) if (!this.byUid.has(uid)) this.workers.wake(uid);
    const pleg = this.runPleg();
    const events = this.runEvents();
    await Promise.allSettled([informerDone, pleg, events]);
    this.probes.stopAll();
  }

  /** freshList: a runtime list started no earlier than now; concurrent callers share one list. */
  private freshList(): Promise<ContainerInfo[]> {
    // High-resolution time: with Date.now() a list begun in the same millisecond as a container's
    // exit (and before it) counted as fresh, and the sync that followed saw the container running.
    const now = performance.now();
    if (this.listing && this.listing.startedAt >= now) return this.listing.p;
    const startedAt = performance.now();
    const prev = this.listing?.p ?? Promise.resolve([]);
    const p = prev
      .catch(() => [])
      .then(() => this.o.runtime.list())
      .then((l) => {
        this.runtimeCache = l;
        return l;
      });
    this.listing = { startedAt, p };
    return p;
  }

  /** runPleg relists the runtime periodically and wakes pods whose containers changed state. */
  private async runPleg(): Promise<void> {
    const period = this.o.relistPeriodMs ?? 1000;
    let last = new Map<string, string>();
    while (!this.signal.aborted) {
      try {
        const list = await this.freshList();
        const now = new Map<string, string>();
        for (const c of list) now.set(c.id, `${c.podUid}|${c.state}`);
        const changed = new Set<string>();
        for (const [id, v] of now) if (last.get(id) !== v) changed.add(v.split("|")[0] ?? "");
        for (const [id, v] of last) if (!now.has(id)) changed.add(v.split("|")[0] ?? "");
        last = now;
        for (const uid of changed) if (uid) this.workers.wake(uid);
        this.counters.plegRelists++;
      } catch (err) {
        this.log.warn({ err }, "runtime relist failed");
      }
      await sleep(period, this.signal);
    }
  }

  /** runEvents: Docker's event stream wakes the affected pod at once (the relist is the safety net). */
  private async runEvents(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        for await (const ev of this.o.runtime.events(this.signal)) {
          if (!["die", "start", "oom", "destroy", "kill"].includes(ev.action)) continue;
          if (ev.podUid) this.workers.wake(ev.podUid);
        }
      } catch (err) {
        if (this.signal.aborted) return;
        this.log.warn({ err }, "runtime event stream failed; reconnecting");
      }
      await sleep(1000, this.signal);
    }
  }

  private setWaiting(uid: string, container: string, w: Waiting | undefined): void {
    let m = this.waiting.get(uid);
    if (!w) {
      m?.delete(container);
      return;
    }
    if (!m) {
      m = new Map();
      this.waiting.set(uid, m);
    }
    m.set(container, w);
  }

  /** sandboxOf: the pod's newest sandbox; a hostNetwork sandbox has the node's IP. */
  private sandboxOf(containers: ContainerInfo[]): ContainerInfo | undefined {
    const sb = containers
      .filter((c) => c.type === "sandbox")
      .sort((a, b) => b.restartCount - a.restartCount || (b.createdAt ?? "").localeCompare(a.createdAt ?? ""))[0];
    return sb?.hostNetwork ? { ...sb, ip: this.o.nodeIP } : sb;
  }

  /** syncPod: see the file header. */
  async syncPod(uid: string): Promise<SyncResult> {
    const pod = this.byUid.get(uid);
    const all = (await this.freshList()).filter((c) => c.podUid === uid);
    if (!pod) return this.cleanupPod(uid, all);
    if (pod.metadata.deletionTimestamp || this.terminating.has(uid)) return this.terminatePod(pod, all);

    const log = this.log.child({ pod: podKey(pod), podUid: uid });
    if (!this.seen.has(uid)) {
      this.seen.add(uid);
      const running = all.filter((c) => c.state === "running").length;
      if (running > 0) log.info({ running }, "adopted running containers");
    }
    const spec = pod.spec;
    if (!spec) return {};
    const policy = spec.restartPolicy ?? "Always";
    const terminal = pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
    let requeue = Number.POSITIVE_INFINITY;
    const want = (ms: number) => {
      requeue = Math.min(requeue, ms);
    };

    if (terminal) {
      // A finished pod runs nothing (not even its sandbox), but keeps its containers for logs.
      await Promise.all(all.filter((c) => c.state === "running").map((c) => this.o.runtime.stopContainer(c.id, 0)));
      this.probes.removePod(uid);
      return { done: false, requeueAfterMs: 60_000 };
    }

    // activeDeadlineSeconds: past it, the pod is killed and fails (upstream: DeadlineExceeded).
    const deadline = spec.activeDeadlineSeconds;
    const startMs = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
    if (deadline !== undefined && startMs !== undefined) {
      const left = startMs + deadline * 1000 - Date.now();
      if (left <= 0) {
        const message = "Pod was active on the node longer than the specified deadline";
        this.events.event(pod, "Normal", "DeadlineExceeded", message);
        const grace = spec.terminationGracePeriodSeconds ?? 30;
        await Promise.all(
          all
            .filter((c) => c.state === "running")
            .map((c) => this.o.runtime.stopContainer(c.id, c.type === "sandbox" ? 0 : grace)),
        );
        this.probes.removePod(uid);
        this.writeStatus(
          pod,
          (await this.freshList()).filter((c) => c.podUid === uid),
          { reason: "DeadlineExceeded", message },
        );
        return { requeueAfterMs: 60_000 };
      }
      want(left + 100);
    }

    // 1. The sandbox.
    let containers = all;
    let sandbox = this.sandboxOf(containers);
    if (sandbox?.state !== "running" || !sandbox.ip) {
      const allDone =
        policy !== "Always" &&
        (spec.containers ?? []).every((c) => {
          const cur = instancesOf(containers, c.name, "app")[0];
          return cur?.state === "exited" && (policy === "Never" || cur.exitCode === 0);
        });
      if (!allDone) {
        if (sandbox) {
          log.info("pod sandbox changed; killing and recreating the pod's containers");
          await Promise.all(
            containers.filter((c) => c.state === "running").map((c) => this.o.runtime.stopContainer(c.id, 0)),
          );
        }
        const ok = await this.ensureImage(pod, this.o.podInfraImage, "IfNotPresent", undefined, log);
        if (!ok) throw new Error(`pod infra image ${this.o.podInfraImage} is not available`);
        const attempt = sandbox ? sandbox.restartCount + 1 : 0;
        const ports = (spec.containers ?? []).flatMap((c) =>
          (c.ports ?? [])
            .filter((p) => p.hostPort)
            .map((p) => ({
              containerPort: p.containerPort,
              hostPort: p.hostPort ?? 0,
              protocol: (p.protocol ?? "TCP") as "TCP" | "UDP" | "SCTP",
              hostIP: p.hostIP,
            })),
        );
        await this.starts.run(() =>
          this.o.runtime.runSandbox({
            podUid: uid,
            podName: pod.metadata.name ?? "",
            podNamespace: pod.metadata.namespace ?? "",
            attempt,
            hostname: spec.hostname ?? pod.metadata.name ?? "",
            image: this.o.podInfraImage,
            portBindings: ports,
            terminationGraceSeconds: spec.terminationGracePeriodSeconds ?? 30,
            // Docker refuses DNS settings in the host's network namespace.
            dns: spec.hostNetwork
              ? undefined
              : podDNS(pod, this.o.dns ?? { clusterDNS: [], clusterDomain: "cluster.local" }),
            hostNetwork: spec.hostNetwork === true,
            extraHosts: (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
          }),
        );
        // Old sandboxes are of no use once a new one runs.
        if (sandbox) await this.o.runtime.removeContainer(sandbox.id);
        containers = (await this.freshList()).filter((c) => c.podUid === uid);
        sandbox = this.sandboxOf(containers);
      }
    }
    const podIP = sandbox?.state === "running" ? sandbox.ip : undefined;
    const sandboxOk = !!sandbox && sandbox.state === "running" && !!podIP;
    const volumesOk = sandboxOk && (await this.setupVolumes(pod, podIP ?? "", log));
    if (sandboxOk && !volumesOk) want(2000);

    // 2. Init containers, in order, each to completion.
    let initialized = true;
    if (sandboxOk && sandbox && volumesOk) {
      for (const ic of spec.initContainers ?? []) {
        const cur = instancesOf(containers, ic.name, "init")[0];
        if (cur?.state === "exited" && cur.exitCode === 0) continue;
        initialized = false;
        if (cur?.state === "running") break;
        if (cur?.state === "created") {
          await this.o.runtime.removeContainer(cur.id);
        }
        if (cur?.state === "exited" && policy === "Never") break; // the pod has failed
        const r = await this.startWithBackoff(
          pod,
          ic,
          "init",
          cur?.state === "exited" ? cur : undefined,
          sandbox.id,
          podIP ?? "",
          log,
        );
        if (r) want(r);
        break;
      }
    } else initialized = false;

    // 3. App containers.
    if (sandboxOk && sandbox && initialized && volumesOk) {
      for (const c of spec.containers ?? []) {
        const inst = instancesOf(containers, c.name, "app");
        let cur = inst[0];
        const hash = hashContainer(c);
        if (cur?.state === "running") {
          const pst = this.probes.get(cur.id);
          let why: string | undefined;
          if (cur.hash && cur.hash !== hash) why = `Container ${c.name} definition changed, will be restarted`;
          else if (pst.killRequested) {
            why = `Container ${c.name} failed ${pst.killRequested.kind} probe, will be restarted`;
            this.counters.probeKills++;
          }
          if (!why) continue;
          this.events.event(pod, "Normal", "Killing", why);
          log.info({ container: c.name, reason: why }, "killing container");
          await this.killContainer(pod, cur, spec.terminationGracePeriodSeconds ?? 30, podIP ?? "");
          containers = (await this.freshList()).filter((x) => x.podUid === uid);
          cur = instancesOf(containers, c.name, "app")[0];
          if (cur?.state === "running") continue;
          // A probe kill or a spec change always restarts, whatever the policy says about exit codes.
          if (cur) {
            const r = await this.startWithBackoff(pod, c, "app", cur, sandbox.id, podIP ?? "", log, true);
            if (r) want(r);
          }
          continue;
        }
        if (cur?.state === "created") {
          // A crash between create and start: start it over.
          await this.o.runtime.removeContainer(cur.id);
          cur = inst[1];
        }
        if (!cur || cur.state === "created") {
          const r = await this.startWithBackoff(pod, c, "app", undefined, sandbox.id, podIP ?? "", log);
          if (r) want(r);
          continue;
        }
        // exited
        const restart = policy === "Always" || (policy === "OnFailure" && cur.exitCode !== 0);
        if (!restart) {
          this.setWaiting(uid, c.name, undefined);
          continue;
        }
        const r = await this.startWithBackoff(pod, c, "app", cur, sandbox.id, podIP ?? "", log);
        if (r) want(r);
      }
    }

    // 4. Probes follow the running containers; status goes to the status manager.
    containers = (await this.freshList()).filter((c) => c.podUid === uid);
    const running: { id: string; spec: Container }[] = [];
    for (const c of spec.containers ?? []) {
      const cur = instancesOf(containers, c.name, "app")[0];
      if (cur?.state === "running") running.push({ id: cur.id, spec: c });
    }
    this.probes.sync(pod, running, podIP ?? "");
    this.writeStatus(pod, containers);

    // Garbage: keep the current and one previous instance of each container (for logs --previous).
    for (const c of [
      ...(spec.containers ?? []).map((x) => [x.name, "app"] as const),
      ...(spec.initContainers ?? []).map((x) => [x.name, "init"] as const),
    ]) {
      const inst = instancesOf(containers, c[0], c[1]);
      for (const old of inst.slice(2)) if (old.state !== "running") await this.o.runtime.removeContainer(old.id);
    }
    return { requeueAfterMs: Number.isFinite(requeue) ? requeue : undefined };
  }

  /** setupVolumes prepares the pod's volumes; false (with a FailedMount event) when one cannot be set up yet. */
  private async setupVolumes(pod: Pod, podIP: string, log: Logger): Promise<boolean> {
    const uid = pod.metadata.uid ?? "";
    try {
      this.podVolumes.set(uid, await this.o.volumes.setup(pod, podIP, this.o.nodeIP));
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof VolumeError)) log.warn({ err }, "volume setup failed");
      this.events.event(pod, "Warning", "FailedMount", `MountVolume.SetUp failed: ${message}`);
      return false;
    }
  }

  /** binds: Docker bind specs for a container's volumeMounts; throws on an unknown volume. */
  private async binds(pod: Pod, c: Container): Promise<string[]> {
    const vols = this.podVolumes.get(pod.metadata.uid ?? "") ?? new Map<string, string>();
    const out: string[] = [];
    for (const m of c.volumeMounts ?? []) {
      const host = vols.get(m.name);
      if (!host) throw new Error(`volume "${m.name}" of container ${c.name} is not a volume of the pod`);
      let src = host;
      if (m.subPath) {
        src = join(host, m.subPath);
        if (!src.startsWith(host)) throw new Error(`subPath "${m.subPath}" escapes volume "${m.name}"`);
        if (!existsSync(src)) await mkdir(src, { recursive: true });
      }
      out.push(`${src}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
    }
    return out;
  }

  private writeStatus(pod: Pod, containers: ContainerInfo[], failure?: { reason: string; message: string }): void {
    const uid = pod.metadata.uid ?? "";
    const spec = pod.spec;
    const readiness = new Map<string, boolean>();
    const started = new Map<string, boolean>();
    for (const c of containers) {
      const st = this.probes.get(c.id);
      if (st.ready !== undefined) readiness.set(c.id, st.ready);
      if (st.started !== undefined) started.set(c.id, st.started);
    }
    const status = generatePodStatus(pod, {
      sandbox: this.sandboxOf(containers),
      containers,
      waiting: this.waiting.get(uid) ?? new Map(),
      readiness,
      started,
      hasReadinessProbe: new Set((spec?.containers ?? []).filter((c) => c.readinessProbe).map((c) => c.name)),
      hasStartupProbe: new Set((spec?.containers ?? []).filter((c) => c.startupProbe).map((c) => c.name)),
      imageRefs: this.imageRefs,
      hostIP: this.o.nodeIP,
      now: k8sNow(),
      ...(failure ? { failure } : {}),
    });
    this.status.setPodStatus(pod, status);
  }

  /**
   * startWithBackoff (re)starts a container, honouring CrashLoopBackOff when `prev` exited.
   * Returns ms until it should be retried, or undefined.
   */
  private async startWithBackoff(
    pod: Pod,
    c: Container,
    type: "init" | "app",
    prev: ContainerInfo | undefined,
    sandboxId: string,
    podIP: string,
    log: Logger,
    forced = false,
  ): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? "";
    const key = `${uid}/${c.name}`;
    if (prev) {
      const finishedMs = prev.finishedAt ? Date.parse(prev.finishedAt) + 999 : Date.now();
      const remaining = this.crashBackoff.remaining(key, finishedMs);
      if (remaining > 0 && !forced) {
        const delay = this.crashBackoff.delay(key);
        const msg = `back-off ${formatDelay(delay)} restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
        if (this.waiting.get(uid)?.get(c.name)?.reason !== "CrashLoopBackOff")
          this.events.event(
            pod,
            "Warning",
            "BackOff",
            `Back-off restarting failed container ${c.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`,
          );
        this.setWaiting(uid, c.name, { reason: "CrashLoopBackOff", message: msg });
        return remaining;
      }
      this.crashBackoff.next(key);
    }
    return this.startContainer(pod, c, type, prev ? prev.restartCount + 1 : 0, sandboxId, podIP, log);
  }

  private async startContainer(
    pod: Pod,
    c: Container,
    type: "init" | "app",
    restartCount: number,
    sandboxId: string,
    podIP: string,
    log: Logger,
  ): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? "";
    const image = c.image ?? "";
    const pulled = await this.ensureImage(pod, image, pullPolicy(c), c.name, log);
    if (pulled !== true) return typeof pulled === "number" ? pulled : undefined;
    let env: Map<string, string>;
    let binds: string[];
    try {
      env = await this.resolveEnv(pod, c, podIP);
      binds = await this.binds(pod, c);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setWaiting(uid, c.name, { reason: "CreateContainerConfigError", message });
      this.events.event(pod, "Warning", "Failed", `Error: ${message}`);
      return 10_000;
    }
    const expand = (xs: string[] | undefined) => xs?.map((x) => expandVars(x, env));
    let id: string | undefined;
    try {
      await this.starts.run(async () => {
        id = await this.o.runtime.createContainer({
          podUid: uid,
          podName: pod.metadata.name ?? "",
          podNamespace: pod.metadata.namespace ?? "",
          name: c.name,
          type,
          restartCount,
          hash: hashContainer(c),
          sandboxId,
          image,
          command: expand(c.command),
          args: expand(c.args),
          env: [...env].map(([k, v]) => `${k}=${v}`),
          workingDir: c.workingDir,
          tty: c.tty ?? false,
          stdin: c.stdin ?? false,
          ...limits(c),
          binds,
          terminationGraceSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
        });
        this.events.event(pod, "Normal", "Created", `Created container ${c.name}`);
        await this.o.runtime.startContainer(id);
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const reason = id ? "RunContainerError" : "CreateContainerError";
      this.counters.containerStartErrors++;
      this.setWaiting(uid, c.name, { reason, message });
      this.events.event(pod, "Warning", "Failed", `Error: ${message}`);
      log.warn({ err, container: c.name }, "starting container failed");
      if (id) await this.o.runtime.removeContainer(id).catch(() => undefined);
      return this.crashBackoff.next(`${uid}/${c.name}`);
    }
    this.setWaiting(uid, c.name, undefined);
    this.counters.containerStarts++;
    this.events.event(pod, "Normal", "Started", `Started container ${c.name}`);
    log.info({ container: c.name, restartCount }, "started container");
    const postStart = c.lifecycle?.postStart;
    if (postStart && id) {
      // Upstream runs postStart synchronously after start; a failure kills the container.
      const r = await this.runHook(postStart, c, id, podIP, 30_000);
      if (!r.ok) {
        this.events.event(pod, "Warning", "FailedPostStartHook", `PostStartHook failed: ${r.message}`);
        await this.o.runtime.stopContainer(id, 0);
      }
    }
    return undefined;
  }

  /**
   * ensureImage makes the image available per the pull policy. Returns true when usable, or the
   * ms until the next attempt when the container must wait (ErrImagePull / ImagePullBackOff).
   */
  private async ensureImage(
    pod: Pod,
    image: string,
    policy: "Always" | "IfNotPresent" | "Never",
    container: string | undefined,
    log: Logger,
  ): Promise<true | number | false> {
    const uid = pod.metadata.uid ?? "";
    const local = await this.o.runtime.imageStatus(image);
    if (local?.repoDigests[0]) this.imageRefs.set(local.id, `docker-pullable://${local.repoDigests[0]}`);
    const present = () => {
      if (container)
        this.events.event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`);
      return true as const;
    };
    if (policy === "Never") {
      if (local) return present();
      if (container) {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        this.setWaiting(uid, container, { reason: "ErrImageNeverPull", message });
        this.events.event(pod, "Warning", "ErrImageNeverPull", message);
      }
      return 30_000;
    }
    if (local && policy === "IfNotPresent") return present();
    // No registry answers on our machines: an image that failed to pull recently but exists
    // locally is used as is, rather than failing every start of an Always-policy container.
    const failedAt = this.pullFailedAt.get(image);
    if (local && failedAt && Date.now() - failedAt < 300_000) return present();
    const key = `${uid}/${container ?? "POD"}/pull`;
    if (!local && container) {
      const remaining = this.pullBackoff.remaining(key, this.pullFailedAt.get(image) ?? 0);
      if (remaining > 0 && this.waiting.get(uid)?.get(container)) {
        const message = `Back-off pulling image "${image}"`;
        if (this.waiting.get(uid)?.get(container)?.reason !== "ImagePullBackOff")
          this.events.event(pod, "Normal", "BackOff", message);
        this.setWaiting(uid, container, { reason: "ImagePullBackOff", message });
        return remaining;
      }
    }
    if (container) this.events.event(pod, "Normal", "Pulling", `Pulling image "${image}"`);
    const t0 = Date.now();
    try {
      await this.pull(image);
      this.pullFailedAt.delete(image);
      this.pullBackoff.reset(key);
      if (container)
        this.events.event(pod, "Normal", "Pulled", `Successfully pulled image "${image}" in ${Date.now() - t0}ms`);
      return true;
    } catch (err) {
      this.pullFailedAt.set(image, Date.now());
      const message = err instanceof Error ? err.message : String(err);
      if (local) {
        log.info({ image, err: message }, "pull failed; using the local image");
        return present();
      }
      if (!container) return false;
      const delay = this.pullBackoff.next(key);
      this.setWaiting(uid, container, { reason: "ErrImagePull", message });
      this.events.event(pod, "Warning", "Failed", `Failed to pull image "${image}": ${message}`);
      this.events.event(pod, "Warning", "Failed", "Error: ErrImagePull");
      // Come back soon to report ImagePullBackOff for the rest of the delay (upstream shows both).
      return Math.min(delay, 1000);
    }
  }

  private readonly serviceCache = new Map<string, { at: number; items: Service[] }>();

  private async services(ns: string): Promise<Service[]> {
    const hit = this.serviceCache.get(ns);
    // Only concurrent starts share a list: a Service created a moment ago must show up.
    if (hit && Date.now() - hit.at < 200) return hit.items;
    try {
      const l = await this.o.client.list<Service>(info("services"), ns);
      this.serviceCache.set(ns, { at: Date.now(), items: l.items });
      return l.items;
    } catch (err) {
      this.log.debug({ err, namespace: ns }, "listing services for env vars failed");
      return hit?.items ?? [];
    }
  }

  /** The "kubernetes" service's variables every pod gets (upstream: master service env). */
  private async masterServiceEnv(): Promise<[string, string][]> {
    return serviceEnv((await this.services("default")).filter((s) => s.metadata.name === "kubernetes"));
  }

  private async servicesEnv(ns: string): Promise<[string, string][]> {
    const own = await this.services(ns);
    const extra =
      ns === "default" ? [] : (await this.services("default")).filter((s) => s.metadata.name === "kubernetes");
    return serviceEnv([...extra, ...own]);
  }

  private readonly pulls = new Map<string, Promise<void>>();

  /** pull: one pull per image at a time; concurrent starts of the same image share it. */
  private pull(image: string): Promise<void> {
    let p = this.pulls.get(image);
    if (!p) {
      p = this.o.runtime.pullImage(image, this.signal).finally(() => this.pulls.delete(image));
      this.pulls.set(image, p);
    }
    return p;
  }

  /** resolveEnv: env and envFrom, with ConfigMap/Secret lookups through the API. */
  private async resolveEnv(pod: Pod, c: Container, podIP: string): Promise<Map<string, string>> {
    const ns = pod.metadata.namespace ?? "default";
    const cms = new Map<string, ConfigMap | undefined>();
    const secrets = new Map<string, Secret | undefined>();
    const getCm = async (name: string) => {
      if (!cms.has(name))
        cms.set(
          name,
          await this.o.client
            .get<ConfigMap>(info("configmaps"), ns, name)
            .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))),
        );
      return cms.get(name);
    };
    const getSecret = async (name: string) => {
      if (!secrets.has(name))
        secrets.set(
          name,
          await this.o.client
            .get<Secret>(info("secrets"), ns, name)
            .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e))),
        );
      return secrets.get(name);
    };
    const secretValue = (s: Secret | undefined, key: string) => {
      const d = s?.data?.[key];
      if (d !== undefined) return Buffer.from(d, "base64").toString("utf8");
      return s?.stringData?.[key];
    };
    const from: [string, string][] =
      pod.spec?.enableServiceLinks === false ? await this.masterServiceEnv() : await this.servicesEnv(ns);
    for (const ef of c.envFrom ?? []) {
      const prefix = ef.prefix ?? "";
      if (ef.configMapRef?.name) {
        const cm = await getCm(ef.configMapRef.name);
        if (!cm && !ef.configMapRef.optional) throw new Error(`configmap "${ef.configMapRef.name}" not found`);
        for (const [k, v] of Object.entries(cm?.data ?? {})) from.push([prefix + k, v]);
      }
      if (ef.secretRef?.name) {
        const s = await getSecret(ef.secretRef.name);
        if (!s && !ef.secretRef.optional) throw new Error(`secret "${ef.secretRef.name}" not found`);
        for (const k of Object.keys(s?.data ?? {})) from.push([prefix + k, secretValue(s, k) ?? ""]);
      }
    }
    // Pre-resolve value sources that need the API, then run the pure builder.
    const resolved = new Map<EnvVar, string | undefined>();
    for (const e of c.env ?? []) {
      const cmRef = e.valueFrom?.configMapKeyRef;
      const sRef = e.valueFrom?.secretKeyRef;
      if (cmRef) {
        const v = (await getCm(cmRef.name ?? ""))?.data?.[cmRef.key];
        if (v === undefined && !cmRef.optional)
          throw new Error(`couldn't find key ${cmRef.key} in ConfigMap ${ns}/${cmRef.name}`);
        resolved.set(e, v);
      } else if (sRef) {
        const v = secretValue(await getSecret(sRef.name ?? ""), sRef.key);
        if (v === undefined && !sRef.optional)
          throw new Error(`couldn't find key ${sRef.key} in Secret ${ns}/${sRef.name}`);
        resolved.set(e, v);
      }
    }
    return buildEnv(pod, c, { podIP, hostIP: this.o.nodeIP, lookup: (e) => resolved.get(e) }, from);
  }

  /**
   * killContainer runs the container's preStop hook (its time counts against the grace period,
   * as upstream), then stops it: SIGTERM, SIGKILL after the rest of the grace period.
   */
  private async killContainer(pod: Pod, c: ContainerInfo, graceSeconds: number, podIP: string): Promise<void> {
    const spec = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((x) => x.name === c.name);
    const hook = spec?.lifecycle?.preStop;
    const t0 = Date.now();
    if (hook && spec && c.state === "running" && graceSeconds > 0) {
      const r = await this.runHook(hook, spec, c.id, podIP, graceSeconds * 1000);
      if (!r.ok) this.events.event(pod, "Warning", "FailedPreStopHook", `PreStopHook failed: ${r.message}`);
    }
    const left = Math.max(0, graceSeconds - Math.floor((Date.now() - t0) / 1000));
    await this.o.runtime.stopContainer(c.id, left);
  }

  /** runHook executes a lifecycle handler (exec, httpGet, tcpSocket or sleep) with a deadline. */
  private async runHook(
    hook: NonNullable<NonNullable<Container["lifecycle"]>["preStop"]>,
    spec: Container,
    id: string,
    podIP: string,
    timeoutMs: number,
  ): Promise<{ ok: boolean; message: string }> {
    if (hook.sleep) {
      await sleep(Math.min(hook.sleep.seconds * 1000, timeoutMs), this.signal);
      return { ok: true, message: "" };
    }
    return runProbe(
      this.o.runtime,
      { ...hook, timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)) },
      spec,
      id,
      podIP,
    );
  }

  /** terminatePod: graceful stop of every container, removal, then the final delete of the object. */
  private async terminatePod(pod: Pod, all: ContainerInfo[]): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const log = this.log.child({ pod: podKey(pod), podUid: uid });
    this.terminating.add(uid);
    this.probes.removePod(uid);
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const apps = all.filter((c) => c.type !== "sandbox" && c.state === "running");
    for (const c of apps) this.events.event(pod, "Normal", "Killing", `Stopping container ${c.name}`);
    const podIP = this.sandboxOf(all)?.ip ?? "";
    await Promise.all(apps.map((c) => this.killContainer(pod, c, grace, podIP)));
    await Promise.all(all.filter((c) => c.type === "sandbox").map((c) => this.o.runtime.stopContainer(c.id, 0)));
    await Promise.all(all.map((c) => this.o.runtime.removeContainer(c.id)));
    await this.o.volumes.cleanup(uid);
    log.info({ graceSeconds: grace, containers: all.length }, "pod containers stopped and removed");
    if (pod.metadata.deletionTimestamp) {
      try {
        await this.o.client.delete(info("pods"), pod.metadata.namespace, pod.metadata.name ?? "", {
          gracePeriodSeconds: 0,
          preconditions: { uid },
        });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
    this.forget(uid);
    this.terminating.delete(uid);
    return { done: true };
  }

  /** cleanupPod removes the containers of a pod the API no longer has (deleted, or an orphan). */
  private async cleanupPod(uid: string, all: ContainerInfo[]): Promise<SyncResult> {
    if (all.length > 0) {
      this.log.info({ podUid: uid, containers: all.length }, "removing containers of a pod that no longer exists");
      this.probes.removePod(uid);
      await Promise.all(all.filter((c) => c.state === "running").map((c) => this.o.runtime.stopContainer(c.id, 2)));
      await Promise.all(all.map((c) => this.o.runtime.removeContainer(c.id)));
    }
    await this.o.volumes.cleanup(uid);
    this.forget(uid);
    return { done: true };
  }

  private forget(uid: string): void {
    this.podVolumes.delete(uid);
    this.seen.delete(uid);
    this.probes.removePod(uid);
    this.waiting.delete(uid);
    this.crashBackoff.resetPrefix(`${uid}/`);
    this.pullBackoff.resetPrefix(`${uid}/`);
    this.status.forget(uid);
  }
}

/** nodeCpuUsage: cumulative CPU ns of the whole machine (root cpuacct, else /proc/stat). */
async function nodeCpuUsage(): Promise<number> {
  try {
    return Number((await readFile("/sys/fs/cgroup/cpuacct/cpuacct.usage", "utf8")).trim());
  } catch {
    const t = os.cpus().reduce((a, c) => a + c.times.user + c.times.sys + c.times.irq + c.times.nice, 0);
    return t * 1_000_000;
  }
}

function capitalize(k: ProbeKind): string {
  return k.charAt(0).toUpperCase() + k.slice(1);
}

function formatDelay(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m0s`;
  if (ms >= 60_000) return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
