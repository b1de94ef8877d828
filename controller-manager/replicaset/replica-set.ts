// The ReplicaSet controller (upstream pkg/controller/replicaset/replica_set.go): keeps
// spec.replicas active pods for every ReplicaSet, adopting matching orphans and releasing owned
// pods whose labels stop matching, and reports what it sees in status. The same code serves
// ReplicationControllers (upstream runs this controller over RCs through adapters): what differs
// between the kinds (resource, selector, event source, name) is a ReplicaSetKind.
//
// Level-triggered: informer handlers only enqueue ReplicaSet keys (and lower expectations);
// sync(key) reads the caches. After creating or deleting pods a ReplicaSet is not managed again
// until the pod informer has seen those changes (ControllerExpectations), so a lagging informer
// never causes double creates or deletes.

import { isInvalid, isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { KubeObject, OwnerReference } from "#pkg/api/meta.js";
import { PODS, REPLICASETS, type ResourceType } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { ReplicaSet, ReplicaSetStatus, WorkloadCondition } from "#pkg/api/types/apps.js";
import type { Pod, PodTemplateSpec } from "#pkg/api/types/core.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { ControllerExpectations } from "#pkg/controller/expectations.js";
import { controllerRef, newControllerRef } from "#pkg/controller/owners.js";
import { isPodActive, isPodAvailable, isPodReady, podsToDelete } from "#pkg/controller/pod-util.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";

/** Upstream BurstReplicas: at most this many creates or deletes per sync. */
export const BURST_REPLICAS = 500;
/** Upstream SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;
export const REPLICA_FAILURE = "ReplicaFailure";

/** What the controller reads of the objects it manages: ReplicaSets and ReplicationControllers alike. */
export interface ReplicaSetLike extends KubeObject {
  spec?: { replicas?: number; minReadySeconds?: number; template?: PodTemplateSpec };
  status?: ReplicaSetStatus;
}

/**
 * ReplicaSetKind: the kind a ReplicaSetController manages (upstream NewBaseController's
 * GroupVersionKind, queue name and event source, and the adapters' selector conversion).
 */
export interface ReplicaSetKind<T extends ReplicaSetLike> {
  /** The controller's --controllers name; also its queue's and logger's. */
  readonly name: string;
  readonly resource: ResourceType<T>;
  /** source.component of the controller's Events. */
  readonly eventSource: string;
  /** The selector of obj's pods; undefined for an invalid or empty one (obj is then not synced). */
  selector(obj: T): Selector | undefined;
}

/** An empty selector would match every pod of the namespace; validation forbids it, so it selects none. */
function nonEmpty(sel: Selector): Selector | undefined {
  return sel.empty ? undefined : sel;
}

export const REPLICA_SET_KIND: ReplicaSetKind<ReplicaSet> = {
  name: "replicaset",
  resource: REPLICASETS,
  eventSource: "replicaset-controller",
  selector(rs) {
    try {
      return nonEmpty(selectorFromLabelSelector(rs.spec?.selector));
    } catch {
      return undefined;
    }
  },
};

export interface ReplicaSetControllerOptions {
  burstReplicas?: number;
}

/**
 * Runs fn `count` times in batches of 1, 2, 4, ... (each batch in parallel), stopping after
 * the first batch with an error, so a failing create (quota, admission) is tried a few times,
 * not `count` times. Returns the successes and the first error (upstream slowStartBatch).
 */
export async function slowStartBatch(
  count: number,
  initial: number,
  fn: () => Promise<void>,
): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    let error: unknown;
    for (const r of results) {
      if (r.status === "fulfilled") successes++;
      else error ??= r.reason;
    }
    if (error !== undefined) return { successes, error };
    remaining -= batch;
  }
  return { successes };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * ReplicaSetController keeps the pods of every object of one ReplicaSetKind (ReplicaSets, or
 * ReplicationControllers) at spec.replicas. Build it before the informers start; run() syncs.
 */
export class ReplicaSetController<T extends ReplicaSetLike = ReplicaSet> implements Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly expectations: ControllerExpectations;
  readonly #kind: ReplicaSetKind<T>;
  readonly #client: ApiClient;
  readonly #rsInformer: Informer<T>;
  readonly #podInformer: Informer<Pod>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #burst: number;

  constructor(ctx: ControllerContext, kind: ReplicaSetKind<T>, o: ReplicaSetControllerOptions = {}) {
    this.#kind = kind;
    this.name = kind.name;
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder(kind.eventSource);
    this.#burst = o.burstReplicas ?? BURST_REPLICAS;
    this.queue = new WorkQueue({ name: this.name, clock: ctx.clock });
    this.expectations = new ControllerExpectations({ clock: ctx.clock });
    this.#rsInformer = ctx.informers.informer(kind.resource);
    this.#podInformer = ctx.informers.informer(PODS);

    this.#rsInformer.on("add", (rs) => this.#enqueue(rs));
    this.#rsInformer.on("update", (_old, cur) => this.#enqueue(cur));
    this.#rsInformer.on("delete", (obj) => {
      const key = keyOf(objectOf(obj));
      this.expectations.delete(key);
      this.queue.add(key);
    });
    this.#podInformer.on("add", (pod) => this.#addPod(pod));
    this.#podInformer.on("update", (old, cur) => this.#updatePod(old, cur));
    this.#podInformer.on("delete", (obj) => this.#deletePod(obj));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, `starting ${this.name} controller`);
    if (!(await waitForCacheSync(signal, this.#rsInformer, this.#podInformer))) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  #enqueue(rs: T): void {
    this.queue.add(keyOf(rs));
  }

  /** The cached ReplicaSet a controllerRef points at, if it is that very object (uid). */
  #resolveRef(namespace: string | undefined, ref: OwnerReference): T | undefined {
    if (ref.kind !== this.#kind.resource.kind) return undefined;
    const rs = this.#rsInformer.get(keyFor(namespace, ref.name));
    return rs && rs.metadata.uid === ref.uid ? rs : undefined;
  }

  /** ReplicaSets whose selector matches an orphan pod (upstream getPodReplicaSets). */
  #matchingReplicaSets(pod: Pod): T[] {
    if (!pod.metadata.labels) return [];
    return this.#rsInformer
      .byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? "")
      .filter((rs) => this.#kind.selector(rs)?.matches(pod.metadata.labels));
  }

  #addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen first already terminating (after a restart): a deletion for expectations' sake.
      this.#deletePod(pod);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const rs = this.#resolveRef(pod.metadata.namespace, ref);
      if (!rs) return;
      const key = keyOf(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    for (const rs of this.#matchingReplicaSets(pod)) this.#enqueue(rs);
  }

  #updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(cur.metadata.labels ?? {});
    if (cur.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) {
      // Graceful deletion started: the pod no longer counts, so react now, not when it is gone.
      this.#deletePod(cur);
      if (labelsChanged) this.#deletePod(old);
      return;
    }
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    if (oldRef && oldRef.uid !== curRef?.uid) {
      const rs = this.#resolveRef(old.metadata.namespace, oldRef);
      if (rs) this.#enqueue(rs);
    }
    if (curRef) {
      const rs = this.#resolveRef(cur.metadata.namespace, curRef);
      if (!rs) return;
      this.#enqueue(rs);
      // Becoming ready starts the minReadySeconds clock: look again when it has run.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (minReady > 0 && !isPodReady(old) && isPodReady(cur)) this.queue.addAfter(keyOf(rs), minReady * 1000 + 1000);
      return;
    }
    if (labelsChanged || oldRef) for (const rs of this.#matchingReplicaSets(cur)) this.#enqueue(rs);
  }

  #deletePod(obj: Pod | Tombstone<Pod>): void {
    const pod = objectOf(obj);
    const ref = controllerRef(pod);
    if (!ref) return;
    const rs = this.#resolveRef(pod.metadata.namespace, ref);
    if (!rs) return;
    const key = keyOf(rs);
    this.expectations.deletionObserved(key, pod.metadata.uid);
    this.queue.add(key);
  }

  /** One reconcile of the ReplicaSet `key` (upstream syncReplicaSet). Throws to be retried. */
  async sync(key: string): Promise<void> {
    const rs = this.#rsInformer.get(key);
    if (!rs) {
      this.expectations.delete(key);
      return;
    }
    const selector = this.#kind.selector(rs);
    if (!selector) {
      this.#log.error({ key }, `${this.#kind.resource.kind} has an invalid or empty selector; not syncing`);
      return;
    }
    const needsSync = this.expectations.satisfied(key);
    const active = this.#podInformer.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? "").filter(isPodActive);
    const pods = await this.#claimPods(rs, selector, active);

    let manageErr: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.#manageReplicas(key, rs, pods);
      } catch (err) {
        manageErr = err;
      }
    }
    const status = this.#calculateStatus(rs, pods, manageErr);
    const updated = await this.#updateStatus(rs, status);
    if (manageErr !== undefined) throw manageErr;
    const replicas = rs.spec?.replicas ?? 1;
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && updated.readyReplicas === replicas && updated.availableReplicas !== replicas)
      this.queue.addAfter(key, minReady * 1000);
  }

  /**
   * The pods this ReplicaSet owns after adopting matching orphans and releasing owned pods that
   * no longer match (upstream PodControllerRefManager.ClaimPods).
   */
  async #claimPods(rs: T, selector: Selector, pods: Pod[]): Promise<Pod[]> {
    const uid = rs.metadata.uid;
    const claimed: Pod[] = [];
    let recheck: Promise<void> | undefined;
    const errors: unknown[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      const matches = selector.matches(pod.metadata.labels);
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) {
          claimed.push(pod);
          continue;
        }
        // Owned but no longer matching: let it go (unless we are being deleted anyway).
        if (rs.metadata.deletionTimestamp) continue;
        try {
          await this.#release(rs, pod);
        } catch (err) {
          errors.push(err);
        }
        continue;
      }
      if (!matches || rs.metadata.deletionTimestamp || pod.metadata.deletionTimestamp) continue;
      try {
        // Adopt only if the ReplicaSet, read fresh from the API server, is still this live object.
        recheck ??= this.#recheckNotDeleting(rs);
        await recheck;
        claimed.push(await this.#adopt(rs, pod));
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
    return claimed;
  }

  async #recheckNotDeleting(rs: T): Promise<void> {
    const { namespace, name = "" } = rs.metadata;
    const fresh = await this.#client.get(this.#kind.resource, namespace, name);
    if (fresh.metadata.uid !== rs.metadata.uid)
      throw new Error(
        `original ${this.#kind.resource.kind} ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${rs.metadata.uid}`,
      );
    if (fresh.metadata.deletionTimestamp)
      throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  }

  /** Sets our controllerRef on an orphan; the cached resourceVersion makes a racing change conflict. */
  async #adopt(rs: T, pod: Pod): Promise<Pod> {
    const next = structuredClone(pod);
    next.metadata.ownerReferences = [...(next.metadata.ownerReferences ?? []), newControllerRef(rs)];
    this.#log.info({ key: keyOf(rs), pod: pod.metadata.name }, "adopting pod");
    return this.#client.update(PODS, pod.metadata.namespace, next);
  }

  async #release(rs: T, pod: Pod): Promise<void> {
    const next = structuredClone(pod);
    next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
    this.#log.info({ key: keyOf(rs), pod: pod.metadata.name }, "releasing pod");
    try {
      await this.#client.update(PODS, pod.metadata.namespace, next);
    } catch (err) {
      // Gone, or being deleted (and so invalid to change): nothing left to release.
      if (!isNotFound(err) && !isInvalid(err)) throw err;
    }
  }

  async #manageReplicas(key: string, rs: T, pods: Pod[]): Promise<void> {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const n = Math.min(-diff, this.#burst);
      // Expect before creating: the informer may report a new pod before create() returns.
      this.expectations.expectCreations(key, n);
      this.#log.debug({ key, need: n }, "too few replicas, creating");
      const { successes, error } = await slowStartBatch(n, SLOW_START_INITIAL_BATCH, () => this.#createPod(rs));
      // Creations that failed or were never attempted will never be observed.
      for (let i = successes; i < n; i++) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const n = Math.min(diff, this.#burst);
      const victims = podsToDelete(pods, n);
      this.expectations.expectDeletions(
        key,
        victims.map((p) => p.metadata.uid ?? ""),
      );
      this.#log.debug({ key, excess: n }, "too many replicas, deleting");
      const results = await Promise.allSettled(victims.map((p) => this.#deletePodOf(rs, p)));
      let error: unknown;
      results.forEach((r, i) => {
        if (r.status === "fulfilled") return;
        // A failed delete will never be observed; one already gone is what we wanted.
        this.expectations.deletionObserved(key, victims[i]?.metadata.uid);
        if (!isNotFound(r.reason)) error ??= r.reason;
      });
      if (error !== undefined) throw error;
    }
  }

  async #createPod(rs: T): Promise<void> {
    const t = rs.spec?.template;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        ...(t?.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}),
        ...(t?.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
        ...(t?.metadata?.finalizers ? { finalizers: [...t.metadata.finalizers] } : {}),
        ownerReferences: [newControllerRef(rs)],
      },
      spec: structuredClone(t?.spec),
    };
    try {
      const created = await this.#client.create(PODS, rs.metadata.namespace, pod);
      this.#recorder.event(rs, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
    } catch (err) {
      this.#recorder.event(rs, "Warning", "FailedCreate", `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  async #deletePodOf(rs: T, pod: Pod): Promise<void> {
    const name = pod.metadata.name ?? "";
    try {
      await this.#client.delete(PODS, pod.metadata.namespace, name);
      this.#recorder.event(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
    } catch (err) {
      if (isNotFound(err)) throw err;
      this.#recorder.event(rs, "Warning", "FailedDelete", `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** Upstream calculateStatus. */
  #calculateStatus(rs: T, pods: Pod[], manageErr: unknown): ReplicaSetStatus {
    const now = this.#clock.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const fullyLabeled = (p: Pod) => Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v);
    const status: ReplicaSetStatus = {
      ...structuredClone(rs.status ?? { replicas: 0 }),
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter(fullyLabeled).length,
      readyReplicas: pods.filter(isPodReady).length,
      availableReplicas: pods.filter((p) => isPodAvailable(p, minReady, now)).length,
      observedGeneration: rs.metadata.generation ?? 0,
    };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== REPLICA_FAILURE);
    const failure = rs.status?.conditions?.find((c) => c.type === REPLICA_FAILURE);
    if (manageErr !== undefined) {
      const diff = pods.length - (rs.spec?.replicas ?? 1);
      const cond: WorkloadCondition = failure ?? {
        type: REPLICA_FAILURE,
        status: "True",
        lastTransitionTime: metaTime(now),
        reason: diff < 0 ? "FailedCreate" : "FailedDelete",
        message: errorMessage(manageErr),
      };
      conditions.push(cond);
    }
    if (conditions.length > 0) status.conditions = conditions;
    else delete status.conditions;
    return status;
  }

  /** Writes status through the status subresource when it changed; one retry on a fresh copy. */
  async #updateStatus(rs: T, status: ReplicaSetStatus): Promise<ReplicaSetStatus> {
    if (JSON.stringify(rs.status ?? {}) === JSON.stringify(status)) return status;
    let cur = rs;
    for (let attempt = 0; ; attempt++) {
      try {
        const next = { ...structuredClone(cur), status };
        const written = await this.#client.update(this.#kind.resource, cur.metadata.namespace, next, {
          subresource: "status",
        });
        return written.status ?? status;
      } catch (err) {
        if (attempt >= 1 || isNotFound(err)) throw err;
        const { namespace, name } = splitKey(keyOf(rs));
        cur = await this.#client.get(this.#kind.resource, namespace, name);
      }
    }
  }
}

export const newReplicaSetController: ControllerInit = (ctx) => new ReplicaSetController(ctx, REPLICA_SET_KIND);
