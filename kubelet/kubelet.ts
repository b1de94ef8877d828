// Kubelet: watches the pods bound to its node and makes the runtime match them. syncPod is the
// "transaction script for the sync of a single pod" (pkg/kubelet/kubelet.go): level-triggered,
// idempotent, re-run on any change (informer event, PLEG event, probe result, backoff expiry,
// periodic resync). It rebuilds all it needs from the informer cache and from the runtime's
// labels, so a restarted kubelet adopts running containers without restarting them.
// The work is done by upstream's managers: the PLEG (pleg.ts), pod workers, computePodActions
// (pod-actions.ts), the image manager (images.ts), lifecycle hooks (lifecycle.ts), the
// environment (envvars.ts), volumes, probes, the status manager and stats (stats.ts).

import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { CONFIGMAPS, PODS, type ResourceType, SECRETS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { ConfigMap, Container, Pod, PodSpec, Secret, Service } from "#pkg/api/types/index.js";
import type { InformerFactory } from "#pkg/cache/factory.js";
import { type InformerView, objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX, UID_INDEX, uidIndexFunc } from "#pkg/cache/store.js";
import type { ApiClient } from "#pkg/client/client.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import { formatDuration } from "#pkg/runtime/duration.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Registry } from "#pkg/runtime/metrics.js";
import { Semaphore } from "#pkg/runtime/semaphore.js";
import { type EnvSources, makeEnvironmentVariables } from "./envvars.js";
import { ImageManager } from "./images.js";
import { Lifecycle } from "./lifecycle.js";
import { KubeletMetrics } from "./metrics.js";
import { Pleg } from "./pleg.js";
import {
  activeDeadlineLeftMs,
  type ContainerAction,
  computePodActions,
  containersToRemove,
  type PodActions,
  sandboxOf,
} from "./pod-actions.js";
import { generatePodStatus, instancesOf, type Waiting } from "./pod-status.js";
import { PodWorkers, type SyncResult } from "./pod-workers.js";
import { type ProbeKind, ProbeManager } from "./prober.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";
import type { EventSink } from "./sources.js";
import { type DNSOptions, expandVars, hashContainer, limits, podDNS, pullPolicy } from "./spec.js";
import { StatsProvider, type Summary } from "./stats.js";
import { StatusManager } from "./status-manager.js";
import { VolumeError, VolumeManager } from "./volumes.js";
import { configMapNames, secretNames, WatchBasedManager } from "./watch-manager.js";

export interface KubeletOptions {
  client: ApiClient;
  /** The process's InformerFactory; run() starts it and waits for its informers to sync. */
  informers: InformerFactory;
  /** Pods bound to this node (the factory's informer with fieldSelector spec.nodeName=<node>). */
  pods: InformerView<Pod>;
  /** Every Service (for the pods' service environment variables). */
  services: InformerView<Service>;
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
  rootDir: string;
  /** --cluster-dns / --cluster-domain. */
  dns?: DNSOptions;
  clock?: Clock;
  /** The process's metrics registry (default: one of its own). */
  registry?: Registry;
}

const podKey = (pod: Pod) => `${pod.metadata.namespace}/${pod.metadata.name}`;
const DEFAULT_GRACE_SECONDS = 30;
/** A finished pod, or one past its deadline, is looked at again this rarely. */
const IDLE_RESYNC_MS = 60_000;
const VOLUME_RETRY_MS = 2000;
const CONFIG_ERROR_RETRY_MS = 10_000;

export class Kubelet {
  readonly pods: InformerView<Pod>;
  readonly metrics: KubeletMetrics;
  readonly registry: Registry;
  readonly podWorkers: PodWorkers;
  private readonly configMaps: WatchBasedManager<ConfigMap>;
  private readonly secrets: WatchBasedManager<Secret>;
  private readonly volumes: VolumeManager;
  private readonly pleg: Pleg;
  private readonly status: StatusManager;
  private readonly probes: ProbeManager;
  private readonly images: ImageManager;
  private readonly lifecycle: Lifecycle;
  private readonly stats: StatsProvider;
  private readonly envSources: EnvSources;
  private readonly events: EventSink;
  private readonly crashBackoff: Backoff;
  private readonly waiting = new Map<string, Map<string, Waiting>>();
  private readonly starts: Semaphore;
  private readonly log: Logger;
  private readonly clock: Clock;
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
    this.clock = o.clock ?? realClock;
    this.signal = this.abort.signal;
    this.pods = o.pods;
    this.events = o.events;
    this.registry = o.registry ?? new Registry();
    this.pleg = new Pleg({
      runtime: o.runtime,
      log: o.log,
      clock: this.clock,
      relistPeriodMs: o.relistPeriodMs ?? 1000,
      onPodChanged: (uid) => this.podWorkers.wake(uid),
      onRelist: () => this.metrics.plegRelists.inc(),
    });
    this.metrics = new KubeletMetrics(this.registry, () => this.pleg.cached());
    this.podWorkers = new PodWorkers(
      async (uid) => {
        this.metrics.podSyncs.inc();
        try {
          return await this.syncPod(uid);
        } catch (err) {
          this.metrics.podSyncErrors.inc();
          throw err;
        }
      },
      { log: o.log, signal: this.signal, resyncMs: o.resyncMs ?? 10_000, clock: this.clock },
    );
    this.status = new StatusManager({ client: o.client, log: o.log.child({ module: "status" }) });
    this.probes = new ProbeManager({
      runtime: o.runtime,
      log: o.log.child({ module: "prober" }),
      onChange: (uid) => this.podWorkers.wake(uid),
      onUnhealthy: (pod, _container, kind, message) =>
        this.events.event(pod, "Warning", "Unhealthy", `${capitalize(kind)} probe failed: ${message}`),
    });
    this.crashBackoff = new Backoff(o.crashLoopBackoffBaseMs ?? 10_000, o.crashLoopBackoffMaxMs ?? 300_000, this.clock);
    this.images = new ImageManager({
      runtime: o.runtime,
      events: o.events,
      log: o.log.child({ module: "images" }),
      clock: this.clock,
      backoffBaseMs: o.imagePullBackoffBaseMs ?? 10_000,
      backoffMaxMs: o.imagePullBackoffMaxMs ?? 300_000,
      signal: this.signal,
    });
    this.lifecycle = new Lifecycle({ runtime: o.runtime, events: o.events, clock: this.clock, signal: this.signal });
    this.stats = new StatsProvider({
      runtime: o.runtime,
      list: () => this.pleg.freshList(),
      nodeName: o.nodeName,
      clock: this.clock,
      signal: this.signal,
    });
    const manager = <T extends ConfigMap | Secret>(
      resource: ResourceType<T>,
      referencedNames: (pod: Pod) => Set<string>,
    ) =>
      new WatchBasedManager<T>({
        client: o.client,
        resource,
        referencedNames,
        onChange: (uids) => {
          for (const uid of uids) this.podWorkers.wake(uid);
        },
        log: o.log.child({ module: resource.resource }),
        clock: this.clock,
      });
    this.configMaps = manager(CONFIGMAPS, configMapNames);
    this.secrets = manager(SECRETS, secretNames);
    const objects = {
      configMap: (ns: string, name: string) => this.configMaps.get(ns, name),
      secret: (ns: string, name: string) => this.secrets.get(ns, name),
    };
    this.volumes = new VolumeManager({
      rootDir: o.rootDir,
      log: o.log.child({ module: "volumes" }),
      clock: this.clock,
      ...objects,
    });
    this.envSources = {
      services: async (ns) => {
        // Service variables are fixed at container start: never build them from a cache not yet filled.
        if (!o.services.hasSynced()) await o.services.waitForSync(this.signal);
        return o.services.byIndex(NAMESPACE_INDEX, ns);
      },
      ...objects,
    };
    this.starts = new Semaphore(o.maxParallelStarts ?? 6);

    this.pods.addIndex(UID_INDEX, uidIndexFunc);
    const wake = (p: Pod) => {
      if (p.metadata.uid) this.podWorkers.wake(p.metadata.uid);
    };
    this.pods.on("add", wake);
    this.pods.on("update", (_old, p) => wake(p));
    // A tombstone (a delete seen only by a relist) carries the last known object.
    this.pods.on("delete", (p) => wake(objectOf(p)));
  }

  /** podByUid: the informer's pod with this uid (pods are keyed by name; a uid names one incarnation). */
  private podByUid(uid: string): Pod | undefined {
    return this.pods.byIndex(UID_INDEX, uid)[0];
  }

  /** summary: /stats/summary. */
  summary(): Promise<Summary> {
    return this.stats.summary();
  }

  /** metricsText: the registry in Prometheus text exposition. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /** getPod: the informer's view of a pod of this node (for the kubelet server). */
  getPod(ns: string, name: string): Pod | undefined {
    return this.pods.get(`${ns}/${name}`);
  }

  /** containerFor: the newest runtime container of a pod's container (for logs/exec). */
  async containerFor(pod: Pod, name: string, previous = false): Promise<ContainerInfo | undefined> {
    const list = await this.pleg.podContainers(pod.metadata.uid ?? "");
    const isInit = pod.spec?.initContainers?.some((c) => c.name === name);
    const inst = instancesOf(list, name, isInit ? "init" : "app");
    return previous ? inst[1] : inst[0];
  }

  /** podIP of a running pod's sandbox. */
  async podIP(pod: Pod): Promise<string | undefined> {
    return sandboxOf(await this.pleg.podContainers(pod.metadata.uid ?? ""), this.o.nodeIP)?.ip;
  }

  /**
   * run starts the informers, the PLEG (runtime events + relist) and the pod workers, and
   * resolves when the signal aborts and work has stopped.
   */
  async run(signal: AbortSignal): Promise<void> {
    signal.addEventListener("abort", () => this.abort.abort(), { once: true });
    await this.o.runtime.ensureNetwork();
    const containers = await this.pleg.freshList();
    this.o.informers.start(this.signal);
    await this.o.informers.waitForSync(this.signal);
    this.log.info({ pods: this.pods.list().length, containers: containers.length }, "pod cache synced");
    // Pods known only to the runtime (deleted while we were down) get a worker too, which removes them.
    for (const c of containers) if (!this.podByUid(c.podUid)) this.podWorkers.wake(c.podUid);
    for (const uid of await this.volumes.podUids()) if (!this.podByUid(uid)) this.podWorkers.wake(uid);
    await Promise.allSettled([this.o.informers.stopped(), this.pleg.run(this.signal)]);
    await this.podWorkers.idle();
    this.probes.stopAll();
    this.configMaps.stop();
    this.secrets.stop();
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

  private computeActions(pod: Pod, containers: ContainerInfo[]): PodActions {
    return computePodActions(pod, containers, {
      nodeIP: this.o.nodeIP,
      killRequested: (id) => this.probes.get(id).killRequested,
    });
  }

  /** syncPod: see the file header. Its steps are those of upstream's syncPod and kuberuntime's SyncPod. */
  async syncPod(uid: string): Promise<SyncResult> {
    const pod = this.podByUid(uid);
    let containers = await this.pleg.podContainers(uid);
    if (!pod) return this.cleanupPod(uid, containers);
    if (pod.metadata.deletionTimestamp || this.terminating.has(uid)) return this.terminatePod(pod, containers);

    const log = this.log.child({ pod: podKey(pod), podUid: uid });
    if (!this.seen.has(uid)) {
      this.seen.add(uid);
      const running = containers.filter((c) => c.state === "running").length;
      if (running > 0) log.info({ running }, "adopted running containers");
    }
    const spec = pod.spec;
    if (!spec) return {};
    this.configMaps.registerPod(pod);
    this.secrets.registerPod(pod);
    let requeue = Number.POSITIVE_INFINITY;
    const want = (ms: number | undefined) => {
      if (ms) requeue = Math.min(requeue, ms);
    };

    // A finished pod runs nothing (not even its sandbox), but keeps its containers for logs.
    if (pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") {
      await Promise.all(
        containers.filter((c) => c.state === "running").map((c) => this.o.runtime.stopContainer(c.id, 0)),
      );
      this.probes.removePod(uid);
      return { done: false, requeueAfterMs: IDLE_RESYNC_MS };
    }

    // activeDeadlineSeconds: past it, the pod is killed and fails (upstream: DeadlineExceeded).
    const deadlineLeft = activeDeadlineLeftMs(pod, this.clock.now());
    if (deadlineLeft !== undefined && deadlineLeft <= 0) return this.failPastDeadline(pod, containers);
    if (deadlineLeft !== undefined) want(deadlineLeft + 100);

    // 1. What to do (computePodActions), and the sandbox first: with a new one, look again.
    let actions = this.computeActions(pod, containers);
    if (actions.createSandbox) {
      await this.createSandbox(pod, actions, log);
      containers = await this.pleg.podContainers(uid);
      actions = this.computeActions(pod, containers);
    }
    const sandbox = actions.sandbox;
    const podIP = sandbox?.ip ?? "";

    // 2. Volumes.
    const volumesOk = !!sandbox && (await this.setupVolumes(pod, podIP, log));
    if (sandbox && !volumesOk) want(VOLUME_RETRY_MS);

    if (sandbox && volumesOk) {
      // 3. Init containers, in order, each to completion.
      const init = actions.init;
      if (init?.type === "start") {
        if (init.remove) await this.o.runtime.removeContainer(init.remove.id);
        want(await this.startWithBackoff(pod, init.container, "init", init.prev, sandbox.id, podIP, log));
      }
      // 4. App containers, once every init container has succeeded.
      if (!init)
        for (const action of actions.containers) want(await this.applyContainerAction(pod, action, sandbox, log));
    }

    // 5. Probes follow the running containers; status goes to the status manager.
    containers = await this.pleg.podContainers(uid);
    const running: { id: string; spec: Container }[] = [];
    for (const c of spec.containers ?? []) {
      const cur = instancesOf(containers, c.name, "app")[0];
      if (cur?.state === "running") running.push({ id: cur.id, spec: c });
    }
    this.probes.sync(pod, running, podIP);
    this.writeStatus(pod, containers);

    // 6. Garbage: all but the current and one previous instance of each container.
    for (const old of containersToRemove(pod, containers)) await this.o.runtime.removeContainer(old.id);
    return { requeueAfterMs: Number.isFinite(requeue) ? requeue : undefined };
  }

  /** failPastDeadline kills a pod past activeDeadlineSeconds and reports it Failed. */
  private async failPastDeadline(pod: Pod, containers: ContainerInfo[]): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const message = "Pod was active on the node longer than the specified deadline";
    this.events.event(pod, "Normal", "DeadlineExceeded", message);
    const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    await Promise.all(
      containers
        .filter((c) => c.state === "running")
        .map((c) => this.o.runtime.stopContainer(c.id, c.type === "sandbox" ? 0 : grace)),
    );
    this.probes.removePod(uid);
    this.writeStatus(pod, await this.pleg.podContainers(uid), { reason: "DeadlineExceeded", message });
    return { requeueAfterMs: IDLE_RESYNC_MS };
  }

  /** createSandbox kills what runs in the old sandbox, then runs a new one (upstream: createPodSandbox). */
  private async createSandbox(pod: Pod, actions: PodActions, log: Logger): Promise<void> {
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
    await this.starts.run(() =>
      this.o.runtime.runSandbox({
        podUid: uid,
        podName: pod.metadata.name ?? "",
        podNamespace: pod.metadata.namespace ?? "",
        attempt: actions.attempt,
        hostname: spec.hostname ?? pod.metadata.name ?? "",
        image,
        portBindings: ports,
        terminationGraceSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
        // Docker refuses DNS settings in the host's network namespace.
        dns: spec.hostNetwork
          ? undefined
          : podDNS(pod, this.o.dns ?? { clusterDNS: [], clusterDomain: "cluster.local" }),
        hostNetwork: spec.hostNetwork === true,
        extraHosts: (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`)),
      }),
    );
    // Old sandboxes are of no use once a new one runs.
    if (actions.oldSandbox) await this.o.runtime.removeContainer(actions.oldSandbox.id);
  }

  /** applyContainerAction carries out one app container's action; returns ms until a retry, if any. */
  private async applyContainerAction(
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
        if (action.probe) this.metrics.probeKills.inc();
        this.events.event(pod, "Normal", "Killing", action.message);
        log.info({ container: c.name, reason: action.message }, "killing container");
        const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
        await this.lifecycle.killContainer(pod, action.running, grace, podIP);
        const cur = instancesOf(await this.pleg.podContainers(uid), c.name, "app")[0];
        if (!cur || cur.state === "running") return undefined;
        // A probe kill or a spec change always restarts, whatever the policy says about exit codes.
        return this.startWithBackoff(pod, c, "app", cur, sandbox.id, podIP, log, true);
      }
    }
  }

  /** setupVolumes prepares the pod's volumes; false (with a FailedMount event) when one cannot be set up yet. */
  private async setupVolumes(pod: Pod, podIP: string, log: Logger): Promise<boolean> {
    const uid = pod.metadata.uid ?? "";
    try {
      this.podVolumes.set(uid, await this.volumes.setup(pod, podIP, this.o.nodeIP));
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
      sandbox: sandboxOf(containers, this.o.nodeIP),
      containers,
      waiting: this.waiting.get(uid) ?? new Map(),
      readiness,
      started,
      hasReadinessProbe: new Set((spec?.containers ?? []).filter((c) => c.readinessProbe).map((c) => c.name)),
      hasStartupProbe: new Set((spec?.containers ?? []).filter((c) => c.startupProbe).map((c) => c.name)),
      imageRefs: this.images.imageRefs,
      hostIP: this.o.nodeIP,
      now: metaTime(this.clock.now()),
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
      const finishedMs = prev.finishedAt ? Date.parse(prev.finishedAt) + 999 : this.clock.now();
      const remaining = this.crashBackoff.remaining(key, finishedMs);
      if (remaining > 0 && !forced) {
        const delay = this.crashBackoff.delay(key);
        const podRef = `${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
        const msg = `back-off ${formatDuration(delay)} restarting failed container=${c.name} pod=${podRef}`;
        if (this.waiting.get(uid)?.get(c.name)?.reason !== "CrashLoopBackOff")
          this.events.event(
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
    return this.startContainer(pod, c, type, prev ? prev.restartCount + 1 : 0, sandboxId, podIP, log);
  }

  /** startContainer: image, environment and mounts, create, start, postStart (upstream: startContainer). */
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
    const current = this.waiting.get(uid)?.get(c.name);
    const pulled = await this.images.ensureImageExists(pod, image, pullPolicy(c), c.name, current);
    if (!pulled.ready) {
      if (pulled.waiting) this.setWaiting(uid, c.name, pulled.waiting);
      return pulled.retryMs;
    }
    let env: Map<string, string>;
    let binds: string[];
    try {
      env = await makeEnvironmentVariables(pod, c, { podIP, hostIP: this.o.nodeIP, sources: this.envSources });
      binds = await this.binds(pod, c);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.setWaiting(uid, c.name, { reason: "CreateContainerConfigError", message });
      this.events.event(pod, "Warning", "Failed", `Error: ${message}`);
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
          ...limits(c),
          binds,
          terminationGraceSeconds: pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS,
        });
        this.events.event(pod, "Normal", "Created", `Created container ${c.name}`);
        await this.o.runtime.startContainer(id);
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const reason = id ? "RunContainerError" : "CreateContainerError";
      this.metrics.containerStartErrors.inc();
      this.setWaiting(uid, c.name, { reason, message });
      this.events.event(pod, "Warning", "Failed", `Error: ${message}`);
      log.warn({ err, container: c.name }, "starting container failed");
      if (id) await this.o.runtime.removeContainer(id).catch(() => undefined);
      return this.crashBackoff.next(`${uid}/${c.name}`);
    }
    this.setWaiting(uid, c.name, undefined);
    this.metrics.containerStarts.inc();
    this.events.event(pod, "Normal", "Started", `Started container ${c.name}`);
    log.info({ container: c.name, restartCount }, "started container");
    if (id) await this.lifecycle.postStart(pod, c, id, podIP);
    return undefined;
  }

  /** terminatePod: graceful stop of every container, removal, then the final delete of the object. */
  private async terminatePod(pod: Pod, all: ContainerInfo[]): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const log = this.log.child({ pod: podKey(pod), podUid: uid });
    this.terminating.add(uid);
    this.probes.removePod(uid);
    const grace =
      pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    const apps = all.filter((c) => c.type !== "sandbox" && c.state === "running");
    for (const c of apps) this.events.event(pod, "Normal", "Killing", `Stopping container ${c.name}`);
    const podIP = sandboxOf(all, this.o.nodeIP)?.ip ?? "";
    await Promise.all(apps.map((c) => this.lifecycle.killContainer(pod, c, grace, podIP)));
    await Promise.all(all.filter((c) => c.type === "sandbox").map((c) => this.o.runtime.stopContainer(c.id, 0)));
    await Promise.all(all.map((c) => this.o.runtime.removeContainer(c.id)));
    await this.volumes.cleanup(uid);
    log.info({ graceSeconds: grace, containers: all.length }, "pod containers stopped and removed");
    if (pod.metadata.deletionTimestamp) {
      try {
        await this.o.client.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? "", {
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
    await this.volumes.cleanup(uid);
    this.forget(uid);
    return { done: true };
  }

  private forget(uid: string): void {
    this.podVolumes.delete(uid);
    this.seen.delete(uid);
    this.probes.removePod(uid);
    this.waiting.delete(uid);
    this.crashBackoff.resetPrefix(`${uid}/`);
    this.images.forgetPod(uid);
    this.status.forget(uid);
    this.configMaps.unregisterPod(uid);
    this.secrets.unregisterPod(uid);
  }
}

function capitalize(k: ProbeKind): string {
  return k.charAt(0).toUpperCase() + k.slice(1);
}
