// Kubelet: watches the pods bound to its node and makes the runtime match them. syncPod is the
// "transaction script for the sync of a single pod" (pkg/kubelet/kubelet.go): level-triggered,
// idempotent, re-run on any change (informer event, PLEG event, probe result, backoff expiry,
// periodic resync). It rebuilds all it needs from the informer cache and from the runtime's
// labels, so a restarted kubelet adopts running containers without restarting them.
// The work is done by upstream's managers: the PLEG (pleg.ts), pod workers, computePodActions
// (pod-actions.ts) carried out by the runtime manager (runtime-manager.ts: images.ts,
// lifecycle.ts, envvars.ts), ConfigMap/Secret watches (watch-manager.ts), volumes, probes, the
// status manager and stats (stats.ts).

import { DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS } from "#pkg/api/defaults.js";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { podConfigMapNames, podSecretNames } from "#pkg/api/pod-references.js";
import {
  CONFIGMAPS,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  type ResourceType,
  SECRETS,
} from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { ConfigMap, Container, Pod, Secret, Service } from "#pkg/api/types/index.js";
import type { InformerFactory } from "#pkg/cache/factory.js";
import { type InformerView, objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX, UID_INDEX, uidIndexFunc } from "#pkg/cache/store.js";
import type { ApiClient } from "#pkg/client/client.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { Registry } from "#pkg/runtime/metrics.js";
import { aborted } from "#pkg/runtime/signals.js";
import type { EnvSources } from "./envvars.js";
import { KubeletMetrics } from "./metrics.js";
import { Pleg } from "./pleg.js";
import {
  activeDeadlineLeftMs,
  computePodActions,
  containersToRemove,
  type PodActions,
  sandboxOf,
} from "./pod-actions.js";
import { generatePodStatus, instancesOf } from "./pod-status.js";
import { PodWorkers, type SyncResult } from "./pod-workers.js";
import { type ProbeKind, ProbeManager } from "./prober.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";
import { RuntimeManager } from "./runtime-manager.js";
import type { EventSink } from "./sources.js";
import type { DNSOptions } from "./spec.js";
import { StatsProvider, type Summary } from "./stats.js";
import { StatusManager } from "./status-manager.js";
import { TokenManager } from "./token-manager.js";
import { PodVolumesError, VolumeError, VolumeManager } from "./volumes.js";
import { WatchBasedManager } from "./watch-manager.js";

/** The Service kubeling-dns keeps (dns/publish.ts): its ClusterIP is the default --cluster-dns. */
const CLUSTER_DNS_SERVICE = "kube-system/kube-dns";

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
/** A finished pod, or one past its deadline, is looked at again this rarely. */
const IDLE_RESYNC_MS = 60_000;
/** A pod whose volumes cannot be set up yet (a claim not bound) is retried with this backoff. */
const VOLUME_RETRY_MS = 1000;
const VOLUME_RETRY_MAX_MS = 8000;

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
  private readonly runtimeManager: RuntimeManager;
  private readonly stats: StatsProvider;
  private readonly events: EventSink;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly signal: AbortSignal;
  private readonly abort = new AbortController();
  /** Pods whose termination (kill + delete) is in progress; never restart their containers. */
  private readonly terminating = new Set<string>();
  /** Pods this process has synced at least once (to log adoption after a restart). */
  private readonly seen = new Set<string>();
  /** uid → the next wait after a failed volume setup (doubling up to VOLUME_RETRY_MAX_MS). */
  private readonly volumeRetry = new Map<string, number>();

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
      clock: this.clock,
    });
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
    this.configMaps = manager(CONFIGMAPS, podConfigMapNames);
    this.secrets = manager(SECRETS, podSecretNames);
    const objects = {
      configMap: (ns: string, name: string) => this.configMaps.get(ns, name),
      secret: (ns: string, name: string) => this.secrets.get(ns, name),
    };
    // Claims and their PVs are read with GETs (the Node authorizer allows no list/watch of them).
    const getOrUndefined = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await get();
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    this.volumes = new VolumeManager({
      claim: (ns, name) => getOrUndefined(() => o.client.get(PERSISTENTVOLUMECLAIMS, ns, name)),
      persistentVolume: (name) => getOrUndefined(() => o.client.get(PERSISTENTVOLUMES, undefined, name)),
      rootDir: o.rootDir,
      tokens: new TokenManager({
        request: TokenManager.requester(o.client),
        log: o.log.child({ module: "token" }),
        clock: this.clock,
      }),
      log: o.log.child({ module: "volumes" }),
      clock: this.clock,
      ...objects,
    });
    const envSources: EnvSources = {
      services: async (ns) => {
        // Service variables are fixed at container start: never build them from a cache not yet filled.
        if (!o.services.hasSynced()) await o.services.waitForSync(this.signal);
        return o.services.byIndex(NAMESPACE_INDEX, ns);
      },
      ...objects,
    };
    this.runtimeManager = new RuntimeManager({
      runtime: o.runtime,
      events: o.events,
      log: o.log,
      clock: this.clock,
      signal: this.signal,
      metrics: this.metrics,
      nodeIP: o.nodeIP,
      podInfraImage: o.podInfraImage,
      ...(o.dns ? { dns: o.dns } : {}),
      discoverClusterDNS: async () => {
        if (!o.services.hasSynced()) await o.services.waitForSync(this.signal);
        const ip = o.services.get(CLUSTER_DNS_SERVICE)?.spec?.clusterIP;
        return ip && ip !== "None" ? ip : undefined;
      },
      crashLoopBackoffBaseMs: o.crashLoopBackoffBaseMs ?? 10_000,
      crashLoopBackoffMaxMs: o.crashLoopBackoffMaxMs ?? 300_000,
      imagePullBackoffBaseMs: o.imagePullBackoffBaseMs ?? 10_000,
      imagePullBackoffMaxMs: o.imagePullBackoffMaxMs ?? 300_000,
      maxParallelStarts: o.maxParallelStarts ?? 6,
      envSources,
      volumes: this.volumes,
      podContainers: (uid) => this.pleg.podContainers(uid),
    });

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

  /** getPod: the informer's view of a pod of this node (for the kubelet server). */
  getPod(ns: string, name: string): Pod | undefined {
    return this.pods.get(`${ns}/${name}`);
  }

  /** containerFor: the newest runtime container of a pod's container (for logs/exec). */
  async containerFor(pod: Pod, name: string, previous = false): Promise<ContainerInfo | undefined> {
    const list = await this.pleg.podContainers(pod.metadata.uid ?? "");
    const type = pod.spec?.initContainers?.some((c) => c.name === name)
      ? "init"
      : pod.spec?.ephemeralContainers?.some((c) => c.name === name)
        ? "ephemeral"
        : "app";
    const inst = instancesOf(list, name, type);
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
    // aborted(): the signal may have aborted already (a SIGTERM while main.ts was starting up).
    void aborted(signal).then(() => this.abort.abort());
    await this.o.runtime.ensureNetwork();
    const containers = await this.pleg.freshList();
    this.o.informers.start(this.signal);
    await this.o.informers.waitForSync(this.signal);
    this.log.info({ pods: this.pods.list().length, containers: containers.length }, "pod cache synced");
    // Pods known only to the runtime (deleted while we were down) get a worker too, which removes them.
    for (const c of containers) if (!this.podByUid(c.podUid)) this.podWorkers.wake(c.podUid);
    for (const uid of await this.volumes.podUids()) if (!this.podByUid(uid)) this.podWorkers.wake(uid);
    await Promise.allSettled([this.o.informers.stopped(), this.pleg.run(this.signal)]);
    this.probes.stopAll();
    this.configMaps.stop();
    this.secrets.stop();
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
      await this.runtimeManager.createSandbox(pod, actions, log);
      containers = await this.pleg.podContainers(uid);
      actions = this.computeActions(pod, containers);
    }
    const sandbox = actions.sandbox;
    const podIP = sandbox?.ip ?? "";

    // 2. Volumes.
    const volumesOk = !!sandbox && (await this.setupVolumes(pod, podIP, log));
    if (sandbox && !volumesOk) {
      // Backoff: a claim not bound yet is looked at again soon, but not in a hot loop.
      const wait = this.volumeRetry.get(uid) ?? VOLUME_RETRY_MS;
      this.volumeRetry.set(uid, Math.min(wait * 2, VOLUME_RETRY_MAX_MS));
      want(wait);
    } else if (volumesOk) this.volumeRetry.delete(uid);

    if (sandbox && volumesOk) {
      // 3. Ephemeral containers not started yet (kubectl debug), before init containers as upstream.
      for (const ec of actions.ephemeral)
        want(await this.runtimeManager.startEphemeralContainer(pod, ec, sandbox, containers, log));
      // Init containers, in order, each to completion.
      const init = actions.init;
      if (init?.type === "start") want(await this.runtimeManager.startInitContainer(pod, init, sandbox, log));
      // 4. App containers, once every init container has succeeded.
      if (!init)
        for (const action of actions.containers)
          want(await this.runtimeManager.applyContainerAction(pod, action, sandbox, log));
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
    const grace = pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
    await Promise.all(
      containers
        .filter((c) => c.state === "running")
        .map((c) => this.o.runtime.stopContainer(c.id, c.type === "sandbox" ? 0 : grace)),
    );
    this.probes.removePod(uid);
    this.writeStatus(pod, await this.pleg.podContainers(uid), { reason: "DeadlineExceeded", message });
    return { requeueAfterMs: IDLE_RESYNC_MS };
  }

  /** setupVolumes prepares the pod's volumes; false (with a FailedMount event) when one cannot be set up yet. */
  private async setupVolumes(pod: Pod, podIP: string, log: Logger): Promise<boolean> {
    try {
      await this.volumes.setup(pod, podIP, this.o.nodeIP);
      return true;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!(err instanceof VolumeError)) log.warn({ err }, "volume setup failed");
      // Upstream's two wordings: volumes not processable yet (a claim not bound) vs a failed SetUp.
      this.events.event(
        pod,
        "Warning",
        "FailedMount",
        err instanceof PodVolumesError
          ? `Unable to attach or mount volumes: ${message}`
          : `MountVolume.SetUp failed: ${message}`,
      );
      return false;
    }
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
      waiting: this.runtimeManager.waitingReasons(uid),
      readiness,
      started,
      hasReadinessProbe: new Set((spec?.containers ?? []).filter((c) => c.readinessProbe).map((c) => c.name)),
      hasStartupProbe: new Set((spec?.containers ?? []).filter((c) => c.startupProbe).map((c) => c.name)),
      imageRefs: this.runtimeManager.images.imageRefs,
      hostIP: this.o.nodeIP,
      now: metaTime(this.clock.now()),
      ...(failure ? { failure } : {}),
    });
    this.status.setPodStatus(pod, status);
  }

  /** terminatePod: graceful stop of every container, removal, then the final delete of the object. */
  private async terminatePod(pod: Pod, all: ContainerInfo[]): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const log = this.log.child({ pod: podKey(pod), podUid: uid });
    this.terminating.add(uid);
    this.probes.removePod(uid);
    const grace =
      pod.metadata.deletionGracePeriodSeconds ??
      pod.spec?.terminationGracePeriodSeconds ??
      DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
    await this.runtimeManager.killPod(pod, all, grace);
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
      await this.runtimeManager.removeContainers(all);
    }
    await this.volumes.cleanup(uid);
    this.forget(uid);
    return { done: true };
  }

  private forget(uid: string): void {
    this.seen.delete(uid);
    this.volumeRetry.delete(uid);
    this.probes.removePod(uid);
    this.runtimeManager.forgetPod(uid);
    this.status.forget(uid);
    this.configMaps.unregisterPod(uid);
    this.secrets.unregisterPod(uid);
  }
}

function capitalize(k: ProbeKind): string {
  return k.charAt(0).toUpperCase() + k.slice(1);
}
