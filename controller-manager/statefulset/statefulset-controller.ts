// The StatefulSet controller (upstream pkg/controller/statefulset: stateful_set.go,
// stateful_set_control.go, stateful_pod_control.go): pods <set>-<start>..<set>-<start+replicas-1>
// with stable names, hostnames under the governing Service and one PVC per volumeClaimTemplate
// each (kept across pod deletion and rescheduling, released or deleted by the retention policy
// through owner references), created in order and each Running and Ready before the next
// (OrderedReady, deleted in reverse order on scale down) or all at once (Parallel), updated from
// the highest ordinal down to the partition within maxUnavailable (RollingUpdate) or only when
// deleted (OnDelete), with ControllerRevisions for currentRevision/updateRevision.
//
// Level-triggered: StatefulSet, pod and ControllerRevision events only enqueue set keys; sync
// reads the caches. Pod names are fixed by ordinal, so a stale cache can at worst ask the API
// server for a pod that exists (AlreadyExists) or delete one twice (NotFound): never an extra
// pod, also across controller-manager restarts.

import { isAlreadyExists, isConflict, isNotFound } from "#pkg/api/errors.js";
import { scaledValueFromIntOrPercent } from "#pkg/api/intstr.js";
import { keyFor, keyOf } from "#pkg/api/keys.js";
import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { CONTROLLERREVISIONS, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from "#pkg/api/resources.js";
import { canonicalJSON } from "#pkg/api/template-patch.js";
import type { ControllerRevision, StatefulSet, StatefulSetStatus } from "#pkg/api/types/apps.js";
import type { Pod, PodTemplateSpec } from "#pkg/api/types/core.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { controllerRef, newControllerRef } from "#pkg/controller/owners.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { claimObjects, recheckDeletionTimestamp } from "#pkg/controller/ref-manager.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import {
  CONTROLLER_REVISION_HASH_LABEL,
  candidateRevisions,
  claimRevisions,
  hashRevisionData,
  maxRevision,
  revisionName,
  sameData,
  sortRevisions,
  templatePatch,
} from "../history/history.js";
import {
  claimsFor,
  identityMatches,
  inOrdinalRange,
  isFailed,
  isHealthy,
  isMemberOf,
  isPending,
  isRunningAndAvailable,
  isRunningAndReady,
  isSucceeded,
  isTerminating,
  newStatefulSetPod,
  ordinalOf,
  replicasOf,
  retentionMatches,
  retentionOwnerRefs,
  revisionOfPod,
  startOrdinal,
  storageMatches,
  templateOfRevision,
  updateIdentity,
  updateStorage,
} from "./util.js";

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function setSelector(set: StatefulSet): Selector | undefined {
  try {
    const sel = selectorFromLabelSelector(set.spec?.selector);
    return sel.empty ? undefined : sel;
  } catch {
    return undefined;
  }
}

/** The set as a revision's template makes it (upstream ApplyRevision). */
function applyRevision(set: StatefulSet, revision: ControllerRevision): StatefulSet {
  const clone = structuredClone(set);
  if (clone.spec) clone.spec.template = templateOfRevision(revision) as NonNullable<StatefulSet["spec"]>["template"];
  return clone;
}

const isCreated = (p: Pod): boolean => p.metadata.uid !== undefined;

export class StatefulSetController implements Controller {
  readonly name = "statefulset";
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #setInformer: Informer<StatefulSet>;
  readonly #podInformer: Informer<Pod>;
  readonly #pvcInformer: Informer<PersistentVolumeClaim>;
  readonly #historyInformer: Informer<ControllerRevision>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("statefulset-controller");
    this.queue = new WorkQueue({ name: "statefulset", clock: ctx.clock });
    this.#setInformer = ctx.informers.informer(STATEFULSETS);
    this.#podInformer = ctx.informers.informer(PODS);
    this.#pvcInformer = ctx.informers.informer(PERSISTENTVOLUMECLAIMS);
    this.#historyInformer = ctx.informers.informer(CONTROLLERREVISIONS);

    this.#setInformer.on("add", (s) => this.#enqueue(s));
    this.#setInformer.on("update", (_o, s) => this.#enqueue(s));
    this.#setInformer.on("delete", (obj) => this.queue.add(keyOf(objectOf(obj))));
    this.#podInformer.on("add", (p) => this.#podChanged(undefined, p));
    this.#podInformer.on("update", (o, p) => this.#podChanged(o, p));
    this.#podInformer.on("delete", (obj) => this.#podChanged(undefined, objectOf(obj)));
    this.#historyInformer.on("add", (cr) => this.#revisionChanged(cr));
    this.#historyInformer.on("delete", (obj) => this.#revisionChanged(objectOf(obj)));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting stateful set controller");
    const synced = await waitForCacheSync(
      signal,
      this.#setInformer,
      this.#podInformer,
      this.#pvcInformer,
      this.#historyInformer,
    );
    if (!synced) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  #enqueue(set: StatefulSet): void {
    this.queue.add(keyOf(set));
  }

  #resolveRef(namespace: string | undefined, ref: OwnerReference): StatefulSet | undefined {
    if (ref.kind !== "StatefulSet") return undefined;
    const set = this.#setInformer.get(keyFor(namespace, ref.name));
    return set && set.metadata.uid === ref.uid ? set : undefined;
  }

  #matching(ns: string | undefined, labels: Record<string, string> | undefined): StatefulSet[] {
    if (!labels) return [];
    return this.#setInformer.byIndex(NAMESPACE_INDEX, ns ?? "").filter((s) => setSelector(s)?.matches(labels));
  }

  #podChanged(old: Pod | undefined, cur: Pod | Tombstone<Pod>): void {
    const pod = objectOf(cur);
    if (old && old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const oldRef = old ? controllerRef(old) : undefined;
    const ref = controllerRef(pod);
    if (oldRef && oldRef.uid !== ref?.uid) {
      const s = this.#resolveRef(old?.metadata.namespace, oldRef);
      if (s) this.#enqueue(s);
    }
    if (ref) {
      const s = this.#resolveRef(pod.metadata.namespace, ref);
      if (!s) return;
      this.#enqueue(s);
      const minReady = s.spec?.minReadySeconds ?? 0;
      if (old && minReady > 0 && !isPodReady(old) && isPodReady(pod))
        this.queue.addAfter(keyOf(s), minReady * 1000 + 1000);
      return;
    }
    for (const s of this.#matching(pod.metadata.namespace, pod.metadata.labels)) this.#enqueue(s);
  }

  #revisionChanged(cr: ControllerRevision): void {
    const ref = controllerRef(cr);
    if (ref) {
      const s = this.#resolveRef(cr.metadata.namespace, ref);
      if (s) this.#enqueue(s);
      return;
    }
    for (const s of this.#matching(cr.metadata.namespace, cr.metadata.labels)) this.#enqueue(s);
  }

  /** One reconcile of the StatefulSet `key` (upstream sync + UpdateStatefulSet). Throws to be retried. */
  async sync(key: string): Promise<void> {
    const set = this.#setInformer.get(key);
    if (!set) return;
    const selector = setSelector(set);
    if (!selector) {
      this.#log.error({ key }, "StatefulSet has an invalid or empty selector; not syncing");
      return;
    }
    const { namespace, name = "" } = set.metadata;
    const fresh = () => this.#client.get(STATEFULSETS, namespace, name);
    const revisions = sortRevisions(
      await claimRevisions(
        this.#client,
        set,
        selector,
        candidateRevisions(this.#historyInformer.byIndex(NAMESPACE_INDEX, namespace ?? ""), set.metadata.uid),
        fresh,
      ),
    );
    const pods = await this.#claimPods(set, selector, fresh);
    const { current, update, collisionCount } = await this.#revisions(set, revisions);
    let status: StatefulSetStatus | undefined;
    let err: unknown;
    try {
      status = await this.#update(set, current, update, collisionCount, pods);
    } catch (e) {
      err = e;
    }
    if (status) await this.#updateStatus(set, status);
    if (err !== undefined) throw err;
    await this.#truncateHistory(set, revisions, current, update);
    const minReady = set.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && status && (status.readyReplicas ?? 0) !== (status.availableReplicas ?? 0))
      this.queue.addAfter(key, minReady * 1000);
  }

  /** getPodsForStatefulSet: pods of the set's name adopted and released by selector. */
  #claimPods(set: StatefulSet, selector: Selector, fresh: () => Promise<StatefulSet>): Promise<Pod[]> {
    const all = this.#podInformer
      .byIndex(NAMESPACE_INDEX, set.metadata.namespace ?? "")
      .filter((p) => controllerRef(p) !== undefined || isMemberOf(set, p));
    return claimObjects(all, {
      owner: set,
      selector,
      canAdopt: recheckDeletionTimestamp(set, fresh),
      adopt: (pod) =>
        this.#client.patch(
          PODS,
          pod.metadata.namespace,
          pod.metadata.name ?? "",
          { metadata: { ownerReferences: [newControllerRef(set)], uid: pod.metadata.uid } },
          "strategic",
        ),
      release: async (pod) => {
        await this.#client.patch(
          PODS,
          pod.metadata.namespace,
          pod.metadata.name ?? "",
          { metadata: { ownerReferences: [{ $patch: "delete", uid: set.metadata.uid }], uid: pod.metadata.uid } },
          "strategic",
        );
      },
    });
  }

  // ---------------------------------------------------------------- revisions

  /** getStatefulSetRevisions: the current and update revisions, creating or renumbering the latter. */
  async #revisions(
    set: StatefulSet,
    revisions: ControllerRevision[],
  ): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    let collisionCount = set.status?.collisionCount ?? 0;
    const data = templatePatch(set);
    const next = maxRevision(revisions) + 1;
    const equal = revisions.filter((r) => sameData(r.data, data));
    const latest = revisions[revisions.length - 1];
    let update: ControllerRevision;
    const lastEqual = equal[equal.length - 1];
    if (lastEqual && lastEqual === latest) {
      update = lastEqual;
    } else if (lastEqual) {
      // A rollback to an older template: that revision becomes the newest.
      update = await this.#client.update(CONTROLLERREVISIONS, set.metadata.namespace, {
        ...structuredClone(lastEqual),
        revision: next,
      });
    } else {
      const created = await this.#createRevision(set, data, next, collisionCount);
      update = created.revision;
      collisionCount = created.collisionCount;
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** CreateControllerRevision: a name clash with other data bumps the collision count and tries again. */
  async #createRevision(
    set: StatefulSet,
    data: Record<string, unknown>,
    revision: number,
    collisionCount: number,
  ): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    const { namespace } = set.metadata;
    const hash = hashRevisionData(data, collisionCount);
    for (let count = collisionCount; ; count++) {
      const name = revisionName(set.metadata.name ?? "", hashRevisionData(data, count));
      const cr: ControllerRevision = {
        apiVersion: "apps/v1",
        kind: "ControllerRevision",
        metadata: {
          name,
          namespace,
          labels: { ...(set.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
          ownerReferences: [newControllerRef(set)],
        },
        data,
        revision,
      };
      try {
        return { revision: await this.#client.create(CONTROLLERREVISIONS, namespace, cr), collisionCount: count };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.#client.get(CONTROLLERREVISIONS, namespace, name);
        if (sameData(existing.data, data)) return { revision: existing, collisionCount: count };
      }
    }
  }

  /** truncateHistory: revisions no pod, current or update uses, beyond revisionHistoryLimit, oldest first. */
  async #truncateHistory(
    set: StatefulSet,
    revisions: ControllerRevision[],
    current: ControllerRevision,
    update: ControllerRevision,
  ): Promise<void> {
    const live = new Set([current.metadata.name, update.metadata.name]);
    for (const p of this.#podInformer.byIndex(NAMESPACE_INDEX, set.metadata.namespace ?? ""))
      if (controllerRef(p)?.uid === set.metadata.uid) live.add(revisionOfPod(p));
    const history = revisions.filter((r) => !live.has(r.metadata.name));
    const limit = set.spec?.revisionHistoryLimit ?? 10;
    for (const r of history.slice(0, Math.max(history.length - limit, 0))) {
      try {
        await this.#client.delete(CONTROLLERREVISIONS, r.metadata.namespace, r.metadata.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  // ---------------------------------------------------------------- pods

  /** Upstream updateStatefulSet: one step towards the spec; returns the status it saw and made. */
  async #update(
    set: StatefulSet,
    current: ControllerRevision,
    update: ControllerRevision,
    collisionCount: number,
    pods: Pod[],
  ): Promise<StatefulSetStatus> {
    const currentSet = applyRevision(set, current);
    const updateSet = applyRevision(set, update);
    const cur = current.metadata.name ?? "";
    const upd = update.metadata.name ?? "";
    const minReady = set.spec?.minReadySeconds ?? 0;
    const now = this.#clock.now();
    const status: StatefulSetStatus = {
      observedGeneration: set.metadata.generation ?? 0,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: cur,
      updateRevision: upd,
      collisionCount,
    };
    const start = startOrdinal(set);
    const count = replicasOf(set);
    const replicas: Array<Pod | undefined> = new Array(count).fill(undefined);
    const condemned: Pod[] = [];
    const countRevision = (p: Pod, delta: number) => {
      if (revisionOfPod(p) === cur) status.currentReplicas = (status.currentReplicas ?? 0) + delta;
      if (revisionOfPod(p) === upd) status.updatedReplicas = (status.updatedReplicas ?? 0) + delta;
    };
    for (const p of pods) {
      status.replicas++;
      if (isRunningAndReady(p)) {
        status.readyReplicas = (status.readyReplicas ?? 0) + 1;
        if (isRunningAndAvailable(p, minReady, now)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
      }
      if (!isTerminating(p)) countRevision(p, 1);
      const ord = ordinalOf(p);
      if (inOrdinalRange(p, set)) replicas[ord - start] = p;
      else if (ord >= 0) condemned.push(p);
    }
    // Each missing ordinal gets a pod at the revision the partition gives it (newVersionedStatefulSetPod).
    const versioned = (ord: number): Pod => {
      const strategy = currentSet.spec?.updateStrategy;
      const rolling = (strategy?.type ?? "RollingUpdate") === "RollingUpdate";
      const partition = strategy?.rollingUpdate?.partition;
      const atCurrent =
        rolling &&
        (partition === undefined ? ord < start + (currentSet.status?.currentReplicas ?? 0) : ord < start + partition);
      return atCurrent
        ? newStatefulSetPod(currentSet, currentSet.spec?.template as PodTemplateSpec, ord, cur)
        : newStatefulSetPod(updateSet, updateSet.spec?.template as PodTemplateSpec, ord, upd);
    };
    for (let i = 0; i < count; i++) replicas[i] ??= versioned(start + i);
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    const firstUnhealthy = [...(replicas as Pod[]), ...condemned].find((p) => !isHealthy(p));

    if (set.metadata.deletionTimestamp) return status;
    const monotonic = (set.spec?.podManagementPolicy ?? "OrderedReady") !== "Parallel";

    // Condemned pods' claims first take the owners the retention policy gives scaled-down pods.
    for (const p of condemned) await this.#fixClaimRetention(updateSet, p);

    for (let i = 0; i < count; i++) {
      let replica = replicas[i] as Pod;
      if (isFailed(replica) || isSucceeded(replica)) {
        this.#recorder.event(
          set,
          "Warning",
          "RecreatingFailedPod",
          `StatefulSet ${set.metadata.namespace}/${set.metadata.name} is recreating ${isFailed(replica) ? "failed" : "terminated"} Pod ${replica.metadata.name}`,
        );
        await this.#deletePod(set, replica);
        countRevision(replica, -1);
        status.replicas--;
        replica = versioned(start + i);
        replicas[i] = replica;
      }
      if (!isCreated(replica)) {
        if (this.#claimIsStale(set, replica)) {
          // A claim of this ordinal is still being deleted: wait for it rather than mount it.
          this.queue.addAfter(keyOf(set), 1000);
          return status;
        }
        await this.#createPod(set, replica);
        status.replicas++;
        countRevision(replica, 1);
        if (monotonic) return status;
        continue;
      }
      if (isPending(replica)) await this.#createMissingClaims(set, replica);
      if (isTerminating(replica) && monotonic) return status;
      if (!isRunningAndReady(replica) && monotonic) return status;
      if (!isRunningAndAvailable(replica, minReady, now) && monotonic) return status;
      const claimsOk = this.#claimsMatchRetention(updateSet, replica);
      if (identityMatches(set, replica) && storageMatches(set, replica) && claimsOk) continue;
      await this.#updatePod(updateSet, replica);
    }

    // Every replica in range is Running, Ready and Available (or the policy is Parallel): scale down,
    // highest ordinal first, one at a time under OrderedReady.
    for (const target of condemned) {
      if (isTerminating(target)) {
        if (monotonic) return status;
        continue;
      }
      if (monotonic && target !== firstUnhealthy && !isRunningAndAvailable(target, minReady, now)) return status;
      this.#log.info({ key: keyOf(set), pod: target.metadata.name }, "scaling down: deleting pod");
      await this.#deletePod(set, target);
      countRevision(target, -1);
      if (monotonic) return status;
    }

    if ((set.spec?.updateStrategy?.type ?? "RollingUpdate") === "OnDelete") return status;

    // RollingUpdate: replace pods not at the update revision from the highest ordinal down to the
    // partition, at most maxUnavailable unhealthy at a time.
    const ru = set.spec?.updateStrategy?.rollingUpdate;
    const partition = ru?.partition ?? 0;
    // A percentage rounds down, to at least 1 (upstream getStatefulSetMaxUnavailable).
    const maxUnavailable = Math.max(1, scaledValueFromIntOrPercent(ru?.maxUnavailable ?? 1, count, false));
    const unavailable = (replicas as Pod[]).filter((p) => !isHealthy(p)).length;
    if (unavailable >= maxUnavailable) return status;
    let budget = maxUnavailable - unavailable;
    for (let i = count - 1; i >= partition && budget > 0; i--) {
      const p = replicas[i] as Pod;
      if (revisionOfPod(p) === upd || isTerminating(p)) continue;
      this.#log.info({ key: keyOf(set), pod: p.metadata.name, revision: upd }, "rolling update: deleting pod");
      await this.#deletePod(set, p);
      if (revisionOfPod(p) === cur) status.currentReplicas = (status.currentReplicas ?? 0) - 1;
      budget--;
    }
    return status;
  }

  async #createPod(set: StatefulSet, pod: Pod): Promise<void> {
    await this.#createMissingClaims(set, pod);
    try {
      await this.#client.create(PODS, set.metadata.namespace, pod);
    } catch (err) {
      // Created by an earlier sync whose pod the cache has not shown yet: that is the one we want.
      if (isAlreadyExists(err)) return;
      this.#recorder.event(
        set,
        "Warning",
        "FailedCreate",
        `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`,
      );
      throw err;
    }
    this.#recorder.event(
      set,
      "Normal",
      "SuccessfulCreate",
      `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
    );
  }

  async #deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.#client.delete(PODS, pod.metadata.namespace, pod.metadata.name ?? "", {
        preconditions: { uid: pod.metadata.uid },
      });
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      this.#recorder.event(
        set,
        "Warning",
        "FailedDelete",
        `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`,
      );
      throw err;
    }
    this.#recorder.event(
      set,
      "Normal",
      "SuccessfulDelete",
      `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
    );
  }

  /** UpdateStatefulPod: identity, storage and the claims' retention owners put right; retried on conflict. */
  async #updatePod(set: StatefulSet, pod: Pod): Promise<void> {
    let cur = structuredClone(pod);
    for (let attempt = 0; ; attempt++) {
      const ordinal = ordinalOf(cur);
      const storage = storageMatches(set, cur);
      if (!storage) {
        updateStorage(set, cur, ordinal);
        await this.#createMissingClaims(set, cur);
      }
      await this.#fixClaimRetention(set, cur);
      if (storage && identityMatches(set, cur)) return;
      updateIdentity(set, cur, ordinal);
      try {
        await this.#client.update(PODS, cur.metadata.namespace, cur);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) {
          this.#recorder.event(
            set,
            "Warning",
            "FailedUpdate",
            `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`,
          );
          throw err;
        }
        cur = await this.#client.get(PODS, pod.metadata.namespace, pod.metadata.name ?? "");
      }
    }
  }

  // ---------------------------------------------------------------- claims

  #claim(namespace: string | undefined, name: string): PersistentVolumeClaim | undefined {
    return this.#pvcInformer.get(keyFor(namespace, name));
  }

  /** createPersistentVolumeClaims: each template's claim for the pod's ordinal, when it does not exist. */
  async #createMissingClaims(set: StatefulSet, pod: Pod): Promise<void> {
    const ordinal = ordinalOf(pod);
    for (const claim of claimsFor(set, ordinal)) {
      const name = claim.metadata.name ?? "";
      if (this.#claim(set.metadata.namespace, name)) continue;
      const refs = retentionOwnerRefs(claim, set, pod);
      if (refs.length > 0) claim.metadata.ownerReferences = refs;
      try {
        await this.#client.create(PERSISTENTVOLUMECLAIMS, set.metadata.namespace, claim);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        this.#recorder.event(
          set,
          "Warning",
          "FailedCreate",
          `create Claim ${name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${errorMessage(err)}`,
        );
        throw err;
      }
      this.#recorder.event(
        set,
        "Normal",
        "SuccessfulCreate",
        `create Claim ${name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`,
      );
    }
  }

  /** PodClaimIsStale: a claim of the ordinal is being deleted, or still belongs to a pod of that name that is gone. */
  #claimIsStale(set: StatefulSet, pod: Pod): boolean {
    for (const claim of claimsFor(set, ordinalOf(pod))) {
      const live = this.#claim(set.metadata.namespace, claim.metadata.name ?? "");
      if (!live) continue;
      if (live.metadata.deletionTimestamp) return true;
      if (live.metadata.ownerReferences?.some((r) => r.kind === "Pod" && r.name === pod.metadata.name)) return true;
    }
    return false;
  }

  #claimsMatchRetention(set: StatefulSet, pod: Pod): boolean {
    return claimsFor(set, ordinalOf(pod)).every((c) => {
      const live = this.#claim(set.metadata.namespace, c.metadata.name ?? "");
      return !live || retentionMatches(live, set, pod);
    });
  }

  /** UpdatePodClaimForRetentionPolicy: the claims' owner references as the retention policy says. */
  async #fixClaimRetention(set: StatefulSet, pod: Pod): Promise<void> {
    for (const c of claimsFor(set, ordinalOf(pod))) {
      const live = this.#claim(set.metadata.namespace, c.metadata.name ?? "");
      if (!live || live.metadata.deletionTimestamp || retentionMatches(live, set, pod)) continue;
      const next = structuredClone(live);
      const refs = retentionOwnerRefs(live, set, pod);
      if (refs.length > 0) next.metadata.ownerReferences = refs;
      else delete next.metadata.ownerReferences;
      try {
        await this.#client.update(PERSISTENTVOLUMECLAIMS, live.metadata.namespace, next);
      } catch (err) {
        // A newer copy than our cache: the claim's event brings the set back for another look.
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  }

  // ---------------------------------------------------------------- status

  /** updateStatefulSetStatus: a completed rolling update makes the update revision current. */
  async #updateStatus(set: StatefulSet, computed: StatefulSetStatus): Promise<void> {
    const status = { ...computed };
    const rolling = (set.spec?.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
    if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    for (const k of [
      "readyReplicas",
      "currentReplicas",
      "updatedReplicas",
      "availableReplicas",
      "collisionCount",
    ] as const)
      if (!status[k]) delete status[k];
    if (set.status?.conditions) status.conditions = set.status.conditions;
    if (canonicalJSON(status) === canonicalJSON(set.status ?? {})) return;
    let cur = set;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#client.update(
          STATEFULSETS,
          cur.metadata.namespace,
          { ...structuredClone(cur), status },
          {
            subresource: "status",
          },
        );
        return;
      } catch (err) {
        if (attempt >= 1 || isNotFound(err)) throw err;
        cur = await this.#client.get(STATEFULSETS, set.metadata.namespace, set.metadata.name ?? "");
      }
    }
  }
}

export const newStatefulSetController: ControllerInit = (ctx) => new StatefulSetController(ctx);
