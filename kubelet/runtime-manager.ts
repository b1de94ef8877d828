// RuntimeManager: upstream's kubeGenericRuntimeManager (kuberuntime_manager.go, kuberuntime_container.go,
// kuberuntime_sandbox.go): carries out computePodActions' plan against the runtime. It creates
// sandboxes, starts containers (image, environment, mounts, create, start, postStart) under
// CrashLoopBackOff, kills them (preStop, grace period), and keeps each container's waiting reason
// (ErrImagePull, CrashLoopBackOff, CreateContainerConfigError, ...) for the pod's status.

import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS } from "#pkg/api/defaults.js";
import type { Container, EphemeralContainer, Pod, PodSpec, Secret } from "#pkg/api/types/index.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import type { Clock } from "#pkg/runtime/clock.js";
import { formatDuration } from "#pkg/runtime/duration.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Semaphore } from "#pkg/runtime/semaphore.js";
import { type EnvSources, makeEnvironmentVariables } from "./envvars.js";
import { ImageManager } from "./images.js";
import { Lifecycle } from "./lifecycle.js";
import type { KubeletMetrics } from "./metrics.js";
import { type ContainerAction, type InitAction, type PodActions, sandboxOf } from "./pod-actions.js";
import { instancesOf, type Waiting } from "./pod-status.js";
import type { ContainerInfo, PodContainerType, Runtime } from "./runtime/runtime.js";
import type { EventSink } from "./sources.js";
import { type DNSOptions, expandVars, hashContainer, limits, podDNS, pullPolicy } from "./spec.js";
import type { VolumeManager } from "./volumes.js";

/** The pod's resolv.conf in its directory (writeResolvConf). */
const RESOLV_CONF = "resolv.conf";

const CONFIG_ERROR_RETRY_MS = 10_000;
/** How soon an ephemeral container whose target is not running yet looks again. */
const TARGET_RETRY_MS = 1_000;

/**
 * The restart count for a container the runtime no longer knows (removed behind the kubelet's
 * back, e.g. `docker rm -f`): one more than the last status reported it with, if it had started.
 * Upstream reads the count back from the container's log directory; the pod's status is our record.
 */
export function restartsOfRemoved(pod: Pod, c: Container, type: "init" | "app"): number {
  const statuses = type === "init" ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
  const st = statuses?.find((s) => s.name === c.name);
  return st?.containerID ? st.restartCount + 1 : 0;
}

export interface RuntimeManagerOptions {
  runtime: Runtime;
  events: EventSink;
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
  metrics: KubeletMetrics;
  nodeIP: string;
  podInfraImage: string;
  dns?: DNSOptions;
  /**
   * Without --cluster-dns: the cluster DNS Service's ClusterIP (kube-system/kube-dns, which
   * kubeling-dns keeps), if there is one, read when a sandbox starts.
   */
  discoverClusterDNS?: () => Promise<string | undefined>;
  crashLoopBackoffBaseMs: number;
  crashLoopBackoffMaxMs: number;
  imagePullBackoffBaseMs: number;
  imagePullBackoffMaxMs: number;
  /** Container creates+starts allowed in flight (PERF C2: Docker tops out near 10 starts/s). */
  maxParallelStarts: number;
  envSources: EnvSources;
  /** The host paths of the pod's mounted volumes. */
  volumes: Pick<VolumeManager, "mounted" | "podDir" | "readOnly">;
  /** A fresh runtime list of one pod's containers (the PLEG's). */
  podContainers: (uid: string) => Promise<ContainerInfo[]>;
}

export class RuntimeManager {
  readonly images: ImageManager;
  private readonly lifecycle: Lifecycle;
  private readonly crashBackoff: Backoff;
  private readonly starts: Semaphore;
  private readonly clock: Clock;
  private readonly waiting = new Map<string, Map<string, Waiting>>();

  constructor(private readonly o: RuntimeManagerOptions) {
    this.clock = o.clock;
    this.crashBackoff = new Backoff(o.crashLoopBackoffBaseMs, o.crashLoopBackoffMaxMs, o.clock);
    this.images = new ImageManager({
      runtime: o.runtime,
      events: o.events,
      log: o.log.child({ module: "images" }),
      clock: o.clock,
      backoffBaseMs: o.imagePullBackoffBaseMs,
      backoffMaxMs: o.imagePullBackoffMaxMs,
      signal: o.signal,
      // From the kubelet's watch-based Secret manager, as volumes and env read them.
      pullSecrets: async (pod) => {
        const ns = pod.metadata.namespace ?? "default";
        const found = await Promise.all(
          (pod.spec?.imagePullSecrets ?? []).map((s) => o.envSources.secret(ns, s.name ?? "").catch(() => undefined)),
        );
        return found.filter((s): s is Secret => s !== undefined);
      },
    });
    this.lifecycle = new Lifecycle({ runtime: o.runtime, events: o.events, clock: o.clock, signal: o.signal });
    this.starts = new Semaphore(o.maxParallelStarts);
  }

  /** waitingReasons: each container's waiting reason the kubelet itself set, for the pod's status. */
  waitingReasons(uid: string): Map<string, Waiting> {
    return this.waiting.get(uid) ?? new Map();
  }

  /** startInitContainer starts the next init container (after removing a never-started leftover). */
  async startInitContainer(
    pod: Pod,
    init: Extract<InitAction, { type: "start" }>,
    sandbox: ContainerInfo,
    log: Logger,
  ): Promise<number | undefined> {
    if (init.remove) await this.o.runtime.removeContainer(init.remove.id);
    return this.startWithBackoff(pod, init.container, "init", init.prev, sandbox.id, sandbox.ip ?? "", log);
  }

  /**
   * startEphemeralContainer runs an ephemeral container once (upstream: startContainer for an
   * ephemeral one, never restarted): in the sandbox's network and IPC namespaces like every
   * container, and in its target's PID namespace when it names one (Docker's pid container:<id>).
   * A target that is not running yet is waited for. Returns ms until a retry, if any.
   */
  async startEphemeralContainer(
    pod: Pod,
    ec: EphemeralContainer,
    sandbox: ContainerInfo,
    containers: ContainerInfo[],
    log: Logger,
  ): Promise<number | undefined> {
    for (const leftover of instancesOf(containers, ec.name, "ephemeral")) {
      if (leftover.state === "created") await this.o.runtime.removeContainer(leftover.id);
    }
    let pidContainerId: string | undefined;
    if (ec.targetContainerName) {
      const target = [
        ...instancesOf(containers, ec.targetContainerName, "app"),
        ...instancesOf(containers, ec.targetContainerName, "init"),
      ].find((c) => c.state === "running");
      if (!target) {
        this.setWaiting(pod.metadata.uid ?? "", ec.name, {
          reason: "ContainerCreating",
          message: `target container ${ec.targetContainerName} is not running`,
        });
        return TARGET_RETRY_MS;
      }
      pidContainerId = target.id;
    }
    return this.startContainer(pod, ec, "ephemeral", 0, sandbox.id, sandbox.ip ?? "", log, pidContainerId);
  }

  /**
   * killPod stops every container of the pod, apps gracefully (preStop, then SIGTERM, SIGKILL after
   * the grace period), then the sandboxes, and removes them all (upstream: KillPod + removal).
   */
  async killPod(pod: Pod, all: ContainerInfo[], graceSeconds: number): Promise<void> {
    const apps = all.filter((c) => c.type !== "sandbox" && c.state === "running");
    for (const c of apps) this.o.events.event(pod, "Normal", "Killing", `Stopping container ${c.name}`);
    const podIP = sandboxOf(all, this.o.nodeIP)?.ip ?? "";
    await Promise.all(apps.map((c) => this.lifecycle.killContainer(pod, c, graceSeconds, podIP)));
    await Promise.all(all.filter((c) => c.type === "sandbox").map((c) => this.o.runtime.stopContainer(c.id, 0)));
    await Promise.all(all.map((c) => this.o.runtime.removeContainer(c.id)));
  }

  /** removeContainers stops (a short grace) and removes containers of a pod that no longer exists. */
  async removeContainers(all: ContainerInfo[]): Promise<void> {
    await Promise.all(all.filter((c) => c.state === "running").map((c) => this.o.runtime.stopContainer(c.id, 2)));
    await Promise.all(all.map((c) => this.o.runtime.removeContainer(c.id)));
  }

  /** forgetPod drops the pod's backoffs and waiting reasons. */
  forgetPod(uid: string): void {
    this.waiting.delete(uid);
    this.crashBackoff.resetPrefix(`${uid}/`);
    this.images.forgetPod(uid);
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

  /** createSandbox kills what runs in the old sandbox, then runs a new one (upstream: createPodSandbox). */
  async createSandbox(pod: Pod, actions: PodActions, log: Logger): Promise<void> {
    const spec: Partial<PodSpec> = pod.spec ?? {};
    const uid = pod.metadata.uid ?? "";
    if (actions.oldSandbox) {
      log.info("pod sandbox changed; killing and recreating the pod's containers");
      await Promise.all(actions.killPod.map((c) => this.o.runtime.stopContainer(c.id, 0)));
    }
    const image = this.o.podInfraImage;
    const pulled = await this.images.ensureImageExists(pod, image, "IfNotPresent", undefined, undefined);
    if (!pulled.ready) throw new Error(`pod infra image ${image} is not available`);
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
    const dns = spec.hostNetwork ? undefined : podDNS(pod, await this.dnsOptions());
    if (dns) await this.writeResolvConf(uid, dns);
    await this.starts.run(() =>
      this.o.runtime.runSandbox({
        podUid: uid,
        podName: pod.metadata.name ?? "",
        podNamespace: pod.metadata.namespace ?? "",
        attempt: actions.attempt,
        hostname: spec.hostname ?? pod.metadata.name ?? "",
        image,
        portBindings: ports,
        terminationGraceSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
        // Docker refuses DNS settings in the host's network namespace.
        dns,
        hostNetwork: spec.hostNetwork === true,
        extraHosts: (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
      }),
    );
    // Old sandboxes are of no use once a new one runs.
    if (actions.oldSandbox) await this.o.runtime.removeContainer(actions.oldSandbox.id);
  }

  /** applyContainerAction carries out one app container's action; returns ms until a retry, if any. */
  async applyContainerAction(
    pod: Pod,
    action: ContainerAction,
    sandbox: ContainerInfo,
    log: Logger,
  ): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? "";
    const c = action.container;
    const podIP = sandbox.ip ?? "";
    switch (action.type) {
      case "done":
        this.setWaiting(uid, c.name, undefined);
        return undefined;
      case "start":
        if (action.remove) await this.o.runtime.removeContainer(action.remove.id);
        return this.startWithBackoff(pod, c, "app", action.prev, sandbox.id, podIP, log);
      case "kill": {
        if (action.probe) this.o.metrics.probeKills.inc();
        this.o.events.event(pod, "Normal", "Killing", action.message);
        log.info({ container: c.name, reason: action.message }, "killing container");
        const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
        await this.lifecycle.killContainer(pod, action.running, grace, podIP);
        const cur = instancesOf(await this.o.podContainers(uid), c.name, "app")[0];
        if (!cur || cur.state === "running") return undefined;
        // A probe kill or a spec change always restarts, whatever the policy says about exit codes.
        return this.startWithBackoff(pod, c, "app", cur, sandbox.id, podIP, log, true);
      }
    }
  }

  /** binds: Docker bind specs for a container's volumeMounts; throws on an unknown volume. */
  /** --cluster-dns and --cluster-domain, the cluster DNS Service's IP standing in for an empty --cluster-dns. */
  private async dnsOptions(): Promise<DNSOptions> {
    const o = this.o.dns ?? { clusterDNS: [], clusterDomain: "cluster.local" };
    if (o.clusterDNS.length > 0 || !this.o.discoverClusterDNS) return o;
    const ip = await this.o.discoverClusterDNS();
    return ip ? { ...o, clusterDNS: [ip] } : o;
  }

  /**
   * The pod's resolv.conf, written into its directory and bind-mounted over every container's
   * /etc/resolv.conf (as upstream's runtimes hand the sandbox's file to its containers), so that
   * pods see the cluster's nameserver itself, not Docker's embedded 127.0.0.11 in front of it.
   */
  private async writeResolvConf(uid: string, dns: { servers: string[]; searches: string[]; options: string[] }) {
    const lines = [
      ...dns.servers.map((s) => `nameserver ${s}`),
      ...(dns.searches.length ? [`search ${dns.searches.join(" ")}`] : []),
      ...(dns.options.length ? [`options ${dns.options.join(" ")}`] : []),
    ];
    const dir = this.o.volumes.podDir(uid);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, RESOLV_CONF), `${lines.join("\n")}\n`, { mode: 0o644 });
  }

  private async binds(pod: Pod, c: Container): Promise<string[]> {
    const uid = pod.metadata.uid ?? "";
    const vols = this.o.volumes.mounted(uid);
    const readOnly = this.o.volumes.readOnly(uid);
    const out: string[] = [];
    const resolvConf = join(this.o.volumes.podDir(uid), RESOLV_CONF);
    if (!pod.spec?.hostNetwork && existsSync(resolvConf)) out.push(`${resolvConf}:/etc/resolv.conf`);
    for (const m of c.volumeMounts ?? []) {
      const host = vols.get(m.name);
      if (!host) throw new Error(`volume "${m.name}" of container ${c.name} is not a volume of the pod`);
      let src = host;
      if (m.subPath) {
        src = join(host, m.subPath);
        if (!src.startsWith(host)) throw new Error(`subPath "${m.subPath}" escapes volume "${m.name}"`);
        if (!existsSync(src)) await mkdir(src, { recursive: true });
      }
      out.push(`${src}:${m.mountPath}${m.readOnly || readOnly.has(m.name) ? ":ro" : ""}`);
    }
    return out;
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
      const finishedMs = prev.finishedAt ? Date.parse(prev.finishedAt) + 999 : this.clock.now();
      const remaining = this.crashBackoff.remaining(key, finishedMs);
      if (remaining > 0 && !forced) {
        const delay = this.crashBackoff.delay(key);
        const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
        const msg = `back-off ${formatDuration(delay)} restarting failed container=${c.name} pod=${podRef}`;
        if (this.waiting.get(uid)?.get(c.name)?.reason !== "CrashLoopBackOff")
          this.o.events.event(
            pod,
            "Warning",
            "BackOff",
            `Back-off restarting failed container ${c.name} in pod ${podRef}`,
          );
        this.setWaiting(uid, c.name, { reason: "CrashLoopBackOff", message: msg });
        return remaining;
      }
      this.crashBackoff.next(key);
    }
    return this.startContainer(
      pod,
      c,
      type,
      prev ? prev.restartCount + 1 : restartsOfRemoved(pod, c, type),
      sandboxId,
      podIP,
      log,
    );
  }

  /** startContainer: image, environment and mounts, create, start, postStart (upstream: startContainer). */
  private async startContainer(
    pod: Pod,
    c: Container,
    type: PodContainerType,
    restartCount: number,
    sandboxId: string,
    podIP: string,
    log: Logger,
    pidContainerId?: string,
  ): Promise<number | undefined> {
    const uid = pod.metadata.uid ?? "";
    const image = c.image ?? "";
    const current = this.waiting.get(uid)?.get(c.name);
    const pulled = await this.images.ensureImageExists(pod, image, pullPolicy(c), c.name, current);
    if (!pulled.ready) {
      if (pulled.waiting) this.setWaiting(uid, c.name, pulled.waiting);
      return pulled.retryMs;
    }
    let env: Map<string, string>;
    let binds: string[];
    try {
      env = await makeEnvironmentVariables(pod, c, { podIP, hostIP: this.o.nodeIP, sources: this.o.envSources });
      binds = await this.binds(pod, c);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setWaiting(uid, c.name, { reason: "CreateContainerConfigError", message });
      this.o.events.event(pod, "Warning", "Failed", `Error: ${message}`);
      return CONFIG_ERROR_RETRY_MS;
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
          stdinOnce: c.stdinOnce ?? false,
          ...(pidContainerId ? { pidContainerId } : {}),
          ...limits(c),
          binds,
          terminationGraceSeconds: pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS,
        });
        this.o.events.event(pod, "Normal", "Created", `Created container: ${c.name}`);
        await this.o.runtime.startContainer(id);
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const reason = id ? "RunContainerError" : "CreateContainerError";
      this.o.metrics.containerStartErrors.inc();
      this.setWaiting(uid, c.name, { reason, message });
      this.o.events.event(pod, "Warning", "Failed", `Error: ${message}`);
      log.warn({ err, container: c.name }, "starting container failed");
      if (id) await this.o.runtime.removeContainer(id).catch(() => undefined);
      return this.crashBackoff.next(`${uid}/${c.name}`);
    }
    this.setWaiting(uid, c.name, undefined);
    this.o.metrics.containerStarts.inc();
    this.o.events.event(pod, "Normal", "Started", `Started container ${c.name}`);
    log.info({ container: c.name, restartCount }, "started container");
    if (id) await this.lifecycle.postStart(pod, c, id, podIP);
    return undefined;
  }
}
