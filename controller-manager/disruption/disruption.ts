// The disruption controller (upstream pkg/controller/disruption/disruption.go): keeps every
// PodDisruptionBudget's status true to its pods (how many are healthy, how many must be, how
// many the pods' controllers want, so how many may be disrupted now), which is what the
// pods/eviction subresource decides by. Entries the eviction subresource adds to
// status.disruptedPods are kept out of the healthy count until the pod's deletion shows, or for
// DELETION_TIMEOUT_MS if it never does. A budget that cannot be computed is failed safe: no
// disruption allowed, DisruptionAllowed=False (SyncFailed).
//
// It also resets a pod's DisruptionTarget condition that the eviction subresource set but whose
// deletion never came (upstream's stale pod disruption cleanup).
//
// Level-triggered: pod and budget events enqueue budget keys; sync(key) reads the caches.

import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { keyOf, splitKey } from "#pkg/api/keys.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { budgetSelects, setStatusCondition } from "#pkg/api/poddisruptionbudget.js";
import {
  DEPLOYMENTS,
  PODDISRUPTIONBUDGETS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  type ResourceInfo,
  registry,
  STATEFULSETS,
  splitApiVersion,
} from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Deployment, ReplicaSet, StatefulSet } from "#pkg/api/types/apps.js";
import type { Pod, ReplicationController } from "#pkg/api/types/core.js";
import {
  DISRUPTION_ALLOWED_CONDITION,
  type PodDisruptionBudget,
  type PodDisruptionBudgetStatus,
  SYNC_FAILED_REASON,
} from "#pkg/api/types/policy.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { controllerRef } from "#pkg/controller/owners.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import {
  buildDisruptedPodMap,
  countHealthyPods,
  type ExpectedScale,
  expectedPodCount,
  nextStatus,
} from "./budget-status.js";

/** upstream stalePodDisruptionTimeout: a DisruptionTarget condition with no deletion after this is reset. */
export const STALE_POD_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

/** The pod condition the eviction subresource sets before deleting a pod. */
const DISRUPTION_TARGET = "DisruptionTarget";
/** The kubelet's own DisruptionTarget reason (never stale: its termination may take long). */
const TERMINATION_BY_KUBELET = "TerminationByKubelet";

/** A pod's controller and its wanted replica count (upstream controllerAndScale). */
interface ControllerAndScale {
  uid: string;
  scale: number;
}

type Finder = (ref: OwnerReference, namespace: string) => Promise<ControllerAndScale | undefined>;

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** upstream verifyGroupKind: ref is of kind, in one of groups. */
function isGroupKind(ref: OwnerReference, kind: string, groups: readonly string[]): boolean {
  return ref.kind === kind && groups.includes(splitApiVersion(ref.apiVersion).group);
}

export interface DisruptionControllerOptions {
  /** The stale DisruptionTarget timeout (default STALE_POD_DISRUPTION_TIMEOUT_MS). */
  stalePodDisruptionTimeoutMs?: number;
}

export class DisruptionController implements Controller {
  readonly name = "disruption";
  readonly queue: WorkQueue;
  readonly staleQueue: WorkQueue;
  readonly #client: ApiClient;
  readonly #pdbInformer: Informer<PodDisruptionBudget>;
  readonly #podInformer: Informer<Pod>;
  readonly #rcInformer: Informer<ReplicationController>;
  readonly #rsInformer: Informer<ReplicaSet>;
  readonly #dInformer: Informer<Deployment>;
  readonly #ssInformer: Informer<StatefulSet>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #staleTimeoutMs: number;

  constructor(ctx: ControllerContext, o: DisruptionControllerOptions = {}) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("controllermanager");
    this.#staleTimeoutMs = o.stalePodDisruptionTimeoutMs ?? STALE_POD_DISRUPTION_TIMEOUT_MS;
    this.queue = new WorkQueue({ name: this.name, clock: ctx.clock });
    this.staleQueue = new WorkQueue({ name: "stale_pod_disruption", clock: ctx.clock });
    this.#pdbInformer = ctx.informers.informer(PODDISRUPTIONBUDGETS);
    this.#podInformer = ctx.informers.informer(PODS);
    this.#rcInformer = ctx.informers.informer(REPLICATIONCONTROLLERS);
    this.#rsInformer = ctx.informers.informer(REPLICASETS);
    this.#dInformer = ctx.informers.informer(DEPLOYMENTS);
    this.#ssInformer = ctx.informers.informer(STATEFULSETS);

    this.#pdbInformer.on("add", (pdb) => this.queue.add(keyOf(pdb)));
    this.#pdbInformer.on("update", (_old, cur) => this.queue.add(keyOf(cur)));
    this.#pdbInformer.on("delete", (obj) => this.queue.add(keyOf(objectOf(obj))));
    this.#podInformer.on("add", (pod) => this.#podChanged(pod));
    this.#podInformer.on("update", (_old, cur) => this.#podChanged(cur));
    this.#podInformer.on("delete", (obj) => this.#podDeleted(obj));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting disruption controller");
    const synced = await waitForCacheSync(
      signal,
      this.#pdbInformer,
      this.#podInformer,
      this.#rcInformer,
      this.#rsInformer,
      this.#dInformer,
      this.#ssInformer,
    );
    if (!synced) return;
    await Promise.all([
      runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log),
      runWorkers(this.staleQueue, 1, (key) => this.syncStalePodDisruption(key), signal, this.#log),
    ]);
  }

  #podChanged(pod: Pod): void {
    const pdb = this.#pdbForPod(pod);
    if (pdb) this.queue.add(keyOf(pdb));
    const stale = this.#staleDisruptionCondition(pod);
    if (stale !== undefined) this.staleQueue.addAfter(keyOf(pod), stale);
  }

  #podDeleted(obj: Pod | Tombstone<Pod>): void {
    const pdb = this.#pdbForPod(objectOf(obj));
    if (pdb) this.queue.add(keyOf(pdb));
  }

  /** upstream getPdbForPod: the first budget selecting the pod; several get a Warning on the pod. */
  #pdbForPod(pod: Pod): PodDisruptionBudget | undefined {
    const pdbs = this.#pdbInformer
      .byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? "")
      .filter((pdb) => budgetSelects(pdb, pod.metadata.labels, { emptySelectsAll: true }));
    const first = pdbs[0];
    if (first && pdbs.length > 1) {
      const msg = `Pod "${pod.metadata.namespace}"/"${pod.metadata.name}" matches multiple PodDisruptionBudgets.  Chose "${first.metadata.name}" arbitrarily.`;
      this.#log.info({ namespace: pod.metadata.namespace, pod: pod.metadata.name }, msg);
      this.#recorder.event(pod, "Warning", "MultiplePodDisruptionBudgets", msg);
    }
    return first;
  }

  /** The pods pdb's selector selects (a missing selector selects none, an empty one all). */
  #podsForPdb(pdb: PodDisruptionBudget): Pod[] {
    const sel = selectorFromLabelSelector(pdb.spec?.selector);
    return this.#podInformer
      .byIndex(NAMESPACE_INDEX, pdb.metadata.namespace ?? "")
      .filter((p) => sel.matches(p.metadata.labels ?? {}));
  }

  /** One reconcile of budget `key` (upstream sync). Throws to be retried. */
  async sync(key: string): Promise<void> {
    const pdb = this.#pdbInformer.get(key);
    if (!pdb) return;
    try {
      await this.#trySync(key, pdb);
    } catch (err) {
      // A conflict only means our copy was stale: retry without failing the budget.
      if (isConflict(err) || isNotFound(err)) throw err;
      this.#log.error({ err, key }, "failed to sync PodDisruptionBudget");
      await this.#failSafe(pdb, err);
    }
  }

  async #trySync(key: string, pdb: PodDisruptionBudget): Promise<void> {
    let pods: Pod[];
    try {
      pods = this.#podsForPdb(pdb);
    } catch (err) {
      this.#recorder.event(pdb, "Warning", "NoPods", `Failed to get pods: ${errorMessage(err)}`);
      throw err;
    }
    if (pods.length === 0) this.#recorder.event(pdb, "Normal", "NoPods", "No matching pods found");

    let counts: Awaited<ReturnType<typeof expectedPodCount>>;
    try {
      counts = await expectedPodCount(pdb, pods, () => this.#expectedScale(pods));
    } catch (err) {
      this.#recorder.event(
        pdb,
        "Warning",
        "CalculateExpectedPodCountFailed",
        `Failed to calculate the number of expected pods: ${errorMessage(err)}`,
      );
      throw err;
    }
    if (counts.unmanagedPods.length > 0) {
      this.#log.debug({ key, pods: counts.unmanagedPods }, "found unmanaged pods associated with this PDB");
      this.#recorder.event(
        pdb,
        "Warning",
        "UnmanagedPods",
        `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec?.selector ?? null)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      );
    }

    const now = this.#clock.now();
    const { disruptedPods, notDeleted, recheckAtMs } = buildDisruptedPodMap(pods, pdb, now);
    for (const pod of notDeleted) {
      this.#log.info({ key, pod: pod.metadata.name }, "pod was expected to be deleted but it wasn't, updating PDB");
      this.#recorder.event(
        pod,
        "Warning",
        "NotDeleted",
        `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`,
      );
    }
    const currentHealthy = countHealthyPods(pods, disruptedPods, now);
    const status = nextStatus(
      pdb,
      { currentHealthy, desiredHealthy: counts.desiredHealthy, expectedCount: counts.expectedCount },
      disruptedPods,
      now,
    );
    if (status) await this.#writeStatus(pdb, status);
    // Look again when the oldest admitted eviction that has not shown runs out of time.
    if (recheckAtMs !== undefined) this.queue.addAfter(key, Math.max(0, recheckAtMs - now));
  }

  /**
   * upstream failSafe: no disruption allowed and DisruptionAllowed=False (SyncFailed) when the
   * status cannot be computed, so the eviction subresource never admits an unsafe eviction.
   */
  async #failSafe(pdb: PodDisruptionBudget, err: unknown): Promise<void> {
    const status: PodDisruptionBudgetStatus = structuredClone(
      pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
    );
    status.disruptionsAllowed = 0;
    status.conditions ??= [];
    setStatusCondition(
      status.conditions,
      {
        type: DISRUPTION_ALLOWED_CONDITION,
        status: "False",
        reason: SYNC_FAILED_REASON,
        message: errorMessage(err),
        observedGeneration: status.observedGeneration ?? 0,
      },
      this.#clock.now(),
    );
    await this.#writeStatus(pdb, status);
  }

  /** Writes status through the status subresource, conditional on the cached copy (a conflict requeues). */
  async #writeStatus(pdb: PodDisruptionBudget, status: PodDisruptionBudgetStatus): Promise<void> {
    const next: PodDisruptionBudget = { ...structuredClone(pdb), status };
    await this.#client.update(PODDISRUPTIONBUDGETS, pdb.metadata.namespace, next, { subresource: "status" });
  }

  /**
   * upstream getExpectedScale: the sum of the scales of the selected pods' controllers, each
   * counted once. A pod without a controller is reported, one whose controller cannot be found
   * is an error.
   */
  async #expectedScale(pods: readonly Pod[]): Promise<ExpectedScale> {
    const scales = new Map<string, number>();
    const unmanagedPods: string[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      if (!ref) {
        unmanagedPods.push(pod.metadata.name ?? "");
        continue;
      }
      if (scales.has(ref.uid)) continue;
      let found: ControllerAndScale | undefined;
      for (const finder of this.#finders()) {
        found = await finder(ref, pod.metadata.namespace ?? "");
        if (found) break;
      }
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const n of scales.values()) expectedCount += n;
    return { expectedCount, unmanagedPods };
  }

  /**
   * The controller finders, in upstream's order: the workload kinds from the caches, then any
   * kind with a scale subresource through the API.
   */
  #finders(): Finder[] {
    return [
      async (ref, ns) => this.#replicationControllerOf(ref, ns),
      async (ref, ns) => this.#deploymentOf(ref, ns),
      async (ref, ns) => this.#replicaSetOf(ref, ns),
      async (ref, ns) => this.#statefulSetOf(ref, ns),
      (ref, ns) => this.#scaleOf(ref, ns),
    ];
  }

  #replicationControllerOf(ref: OwnerReference, ns: string): ControllerAndScale | undefined {
    if (!isGroupKind(ref, "ReplicationController", [""])) return undefined;
    const rc = this.#rcInformer.get(`${ns}/${ref.name}`);
    if (!rc || rc.metadata.uid !== ref.uid) return undefined;
    return { uid: rc.metadata.uid ?? "", scale: rc.spec?.replicas ?? 1 };
  }

  #cachedReplicaSet(ref: OwnerReference, ns: string): ReplicaSet | undefined {
    if (!isGroupKind(ref, "ReplicaSet", ["apps", "extensions"])) return undefined;
    const rs = this.#rsInformer.get(`${ns}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  }

  /** A ReplicaSet not managed by a Deployment: its own replicas. */
  #replicaSetOf(ref: OwnerReference, ns: string): ControllerAndScale | undefined {
    const rs = this.#cachedReplicaSet(ref, ns);
    if (!rs) return undefined;
    if (controllerRef(rs)?.kind === "Deployment") return undefined;
    return { uid: rs.metadata.uid ?? "", scale: rs.spec?.replicas ?? 1 };
  }

  /** A ReplicaSet managed by a Deployment: the Deployment's replicas. */
  #deploymentOf(ref: OwnerReference, ns: string): ControllerAndScale | undefined {
    const rs = this.#cachedReplicaSet(ref, ns);
    const dref = rs ? controllerRef(rs) : undefined;
    if (!dref || !isGroupKind(dref, "Deployment", ["apps", "extensions"])) return undefined;
    const d = this.#dInformer.get(`${ns}/${dref.name}`);
    if (!d || d.metadata.uid !== dref.uid) return undefined;
    return { uid: d.metadata.uid ?? "", scale: d.spec?.replicas ?? 1 };
  }

  #statefulSetOf(ref: OwnerReference, ns: string): ControllerAndScale | undefined {
    if (!isGroupKind(ref, "StatefulSet", ["apps"])) return undefined;
    const ss = this.#ssInformer.get(`${ns}/${ref.name}`);
    if (!ss || ss.metadata.uid !== ref.uid) return undefined;
    return { uid: ss.metadata.uid ?? "", scale: ss.spec?.replicas ?? 1 };
  }

  /** upstream getScaleController: any served kind with a scale subresource. */
  async #scaleOf(ref: OwnerReference, ns: string): Promise<ControllerAndScale | undefined> {
    const r = await this.#resourceFor(ref.apiVersion, ref.kind);
    const gr = r.group ? `${r.resource}.${r.group}` : r.resource;
    if (!r.subresources.some((s) => s.name === "scale")) {
      throw new Error(`${gr} does not implement the scale subresource`);
    }
    let scale: { metadata: { uid?: string }; spec?: { replicas?: number } };
    try {
      scale = await this.#client.get(r, ns, ref.name, { subresource: "scale" });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (scale.metadata.uid !== ref.uid) return undefined;
    return { uid: ref.uid, scale: scale.spec?.replicas ?? 0 };
  }

  /** The resource of a kind (upstream: the RESTMapper): the built-in table, else discovery. */
  async #resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const known = registry.byKind(apiVersion, kind);
    if (known) return known;
    const { group, version } = splitApiVersion(apiVersion);
    for (const gv of await this.#client.discovery()) {
      if (gv.group !== group || gv.version !== version) continue;
      const res = gv.resources.find((x) => x.kind === kind && !x.name.includes("/"));
      if (!res) continue;
      const scale = gv.resources.find((x) => x.name === `${res.name}/scale` && x.kind === "Scale");
      return {
        group,
        version,
        kind,
        listKind: `${kind}List`,
        resource: res.name,
        singular: res.singularName ?? kind.toLowerCase(),
        namespaced: res.namespaced,
        shortNames: res.shortNames ?? [],
        categories: res.categories ?? [],
        verbs: res.verbs ?? [],
        subresources: scale
          ? [{ name: "scale", kind: { group: "autoscaling", version: "v1", kind: "Scale" }, verbs: scale.verbs ?? [] }]
          : [],
      };
    }
    throw new Error(`no matches for kind "${kind}" in version "${apiVersion}"`);
  }

  /**
   * upstream nonTerminatingPodHasStaleDisruptionCondition: ms until pod's DisruptionTarget
   * condition counts as stale (0: already), or undefined when it has none that can go stale.
   */
  #staleDisruptionCondition(pod: Pod): number | undefined {
    if (pod.metadata.deletionTimestamp) return undefined;
    const phase = pod.status?.phase;
    const cond = pod.status?.conditions?.find((c) => c.type === DISRUPTION_TARGET);
    if (cond?.status !== "True" || cond.reason === TERMINATION_BY_KUBELET) return undefined;
    if (phase === "Succeeded" || phase === "Failed") return undefined;
    const since = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : 0;
    return Math.max(0, this.#staleTimeoutMs - (this.#clock.now() - since));
  }

  /** upstream syncStalePodDisruption: DisruptionTarget back to False on a pod that was not deleted after all. */
  async syncStalePodDisruption(key: string): Promise<void> {
    const pod = this.#podInformer.get(key);
    if (!pod) return;
    const wait = this.#staleDisruptionCondition(pod);
    if (wait === undefined) return;
    if (wait > 0) {
      this.staleQueue.addAfter(key, wait);
      return;
    }
    const next: Pod = structuredClone(pod);
    const status = next.status ?? {};
    next.status = status;
    status.conditions = (status.conditions ?? []).map((c) =>
      c.type === DISRUPTION_TARGET
        ? { type: DISRUPTION_TARGET, status: "False", lastTransitionTime: metaTime(this.#clock.now()) }
        : c,
    );
    const { namespace } = splitKey(key);
    await this.#client.update(PODS, namespace, next, { subresource: "status" });
    this.#log.info({ namespace, pod: pod.metadata.name }, "reset stale DisruptionTarget condition to False");
  }
}

export const newDisruptionController: ControllerInit = (ctx) => new DisruptionController(ctx);
