// The Deployment controller (upstream pkg/controller/deployment/deployment_controller.go): one
// ReplicaSet per pod template, rolled from old to new by the Deployment's strategy, scaled with
// it, rolled back, paused, cleaned up, and reported in the Deployment's status.
//
// Level-triggered: Deployment, ReplicaSet and (for Recreate) pod events only enqueue Deployment
// keys; sync(key) reads the caches, adopts and releases ReplicaSets by selector, then takes one
// step: status only while deleting, scaling while paused or on a replicas change, a rollback
// when asked for, else a step of the strategy. The writes it makes bring the key back.

import { keyFor, keyOf } from "#pkg/api/keys.js";
import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { DEPLOYMENTS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { InformerView, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import { controllerRef } from "#pkg/controller/owners.js";
import { claimObjects, recheckDeletionTimestamp } from "#pkg/controller/ref-manager.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import type { PodMap } from "./recreate.js";
import { rolloutRecreate } from "./recreate.js";
import { rollback } from "./rollback.js";
import { rolloutRolling } from "./rolling.js";
import {
  CONTROLLER_KIND,
  checkPausedConditions,
  type DeploymentSyncContext,
  hasNamespaceTerminatingCause,
  isScalingEvent,
  sync,
  syncStatusOnly,
} from "./sync.js";
import {
  byCreationTimestamp,
  deploymentSelector,
  getDeploymentsForReplicaSet,
  getRollbackTo,
  RECREATE,
  ROLLING_UPDATE,
  semanticEqual,
} from "./util.js";

function replicaSetSelector(rs: ReplicaSet): Selector | undefined {
  try {
    const sel = selectorFromLabelSelector(rs.spec?.selector);
    return sel.empty ? undefined : sel;
  } catch {
    return undefined;
  }
}

/** Upstream maxRetries: a Deployment failing this many syncs in a row is dropped until its next event. */
export const MAX_RETRIES = 15;

export interface DeploymentControllerOptions {
  /** Default MAX_RETRIES. */
  maxRetries?: number;
}

export class DeploymentController implements Controller {
  readonly name = "deployment";
  readonly queue: WorkQueue;
  readonly #ctx: DeploymentSyncContext;
  readonly #dInformer: InformerView<Deployment>;
  readonly #rsInformer: InformerView<ReplicaSet>;
  readonly #podInformer: InformerView<Pod>;
  readonly #log: Logger;
  readonly #maxRetries: number;

  constructor(ctx: ControllerContext, o: DeploymentControllerOptions = {}) {
    this.#log = ctx.log.child({ controller: this.name });
    this.#maxRetries = o.maxRetries ?? MAX_RETRIES;
    this.queue = new WorkQueue({ name: this.name, clock: ctx.clock });
    this.#ctx = {
      client: ctx.client,
      recorder: ctx.recorder("deployment-controller"),
      log: this.#log,
      clock: ctx.clock,
      enqueueAfter: (d, ms) => this.queue.addAfter(keyOf(d), ms),
      enqueueRateLimited: (d) => this.queue.addRateLimited(keyOf(d)),
    };
    this.#dInformer = ctx.informers.informer(DEPLOYMENTS);
    this.#rsInformer = ctx.informers.informer(REPLICASETS);
    this.#podInformer = ctx.informers.informer(PODS);

    this.#dInformer.on("add", (d) => this.#enqueue(d));
    this.#dInformer.on("update", (_old, cur) => this.#enqueue(cur));
    this.#dInformer.on("delete", (obj) => this.#enqueue(objectOf(obj)));
    this.#rsInformer.on("add", (rs) => this.#addReplicaSet(rs));
    this.#rsInformer.on("update", (old, cur) => this.#updateReplicaSet(old, cur));
    this.#rsInformer.on("delete", (obj) => this.#deleteReplicaSet(obj));
    this.#podInformer.on("delete", (obj) => this.#deletePod(obj));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting deployment controller");
    if (!(await waitForCacheSync(signal, this.#dInformer, this.#rsInformer, this.#podInformer))) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log, {
      maxRetries: this.#maxRetries,
    });
  }

  #enqueue(d: Deployment): void {
    this.queue.add(keyOf(d));
  }

  /** The cached Deployment a controllerRef points at, if it is that very object (uid). */
  #resolveRef(namespace: string | undefined, ref: OwnerReference): Deployment | undefined {
    if (ref.kind !== CONTROLLER_KIND.kind) return undefined;
    const d = this.#dInformer.get(keyFor(namespace, ref.name));
    return d && d.metadata.uid === ref.uid ? d : undefined;
  }

  #deploymentsForReplicaSet(rs: ReplicaSet): Deployment[] {
    return getDeploymentsForReplicaSet(this.#dInformer.byIndex(NAMESPACE_INDEX, rs.metadata.namespace ?? ""), rs);
  }

  #addReplicaSet(rs: ReplicaSet): void {
    if (rs.metadata.deletionTimestamp) {
      // Seen first already terminating (after a restart).
      this.#deleteReplicaSet(rs);
      return;
    }
    const ref = controllerRef(rs);
    if (ref) {
      const d = this.#resolveRef(rs.metadata.namespace, ref);
      if (d) this.#enqueue(d);
      return;
    }
    // An orphan: every Deployment that might adopt it looks.
    for (const d of this.#deploymentsForReplicaSet(rs)) this.#enqueue(d);
  }

  #updateReplicaSet(old: ReplicaSet, cur: ReplicaSet): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const oldRef = controllerRef(old);
    const curRef = controllerRef(cur);
    const refChanged = !semanticEqual(oldRef, curRef);
    if (refChanged && oldRef) {
      const d = this.#resolveRef(old.metadata.namespace, oldRef);
      if (d) this.#enqueue(d);
    }
    if (curRef) {
      const d = this.#resolveRef(cur.metadata.namespace, curRef);
      if (d) this.#enqueue(d);
      return;
    }
    const labelsChanged = !semanticEqual(old.metadata.labels, cur.metadata.labels);
    if (labelsChanged || refChanged) for (const d of this.#deploymentsForReplicaSet(cur)) this.#enqueue(d);
  }

  #deleteReplicaSet(obj: ReplicaSet | Tombstone<ReplicaSet>): void {
    const rs = objectOf(obj);
    const ref = controllerRef(rs);
    if (!ref) return;
    const d = this.#resolveRef(rs.metadata.namespace, ref);
    if (d) this.#enqueue(d);
  }

  /** A Recreate Deployment waits for its old pods to go: the last one gone brings it back. */
  #deletePod(obj: Pod | Tombstone<Pod>): void {
    const pod = objectOf(obj);
    const d = this.#deploymentForPod(pod);
    if (!d || d.spec?.strategy?.type !== RECREATE) return;
    const owned = this.#ownedReplicaSets(d);
    let pods = 0;
    for (const list of this.#podMap(d, owned).values()) pods += list.length;
    if (pods === 0) this.#enqueue(d);
  }

  #deploymentForPod(pod: Pod): Deployment | undefined {
    const ref = controllerRef(pod);
    let rs: ReplicaSet | undefined;
    if (ref) {
      if (ref.kind !== "ReplicaSet") return undefined;
      rs = this.#rsInformer.get(keyFor(pod.metadata.namespace, ref.name));
    } else {
      const matching = this.#rsInformer
        .byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? "")
        .filter((r) => replicaSetSelector(r)?.matches(pod.metadata.labels) === true)
        .sort(byCreationTimestamp);
      // Several ReplicaSets selecting one pod is a user error; take the oldest, as upstream.
      rs = matching[0];
    }
    if (!rs) return undefined;
    const rsRef = controllerRef(rs);
    return rsRef ? this.#resolveRef(rs.metadata.namespace, rsRef) : undefined;
  }

  /** The cached ReplicaSets whose controllerRef is d (no adoption: for event handlers). */
  #ownedReplicaSets(d: Deployment): ReplicaSet[] {
    return this.#rsInformer
      .byIndex(NAMESPACE_INDEX, d.metadata.namespace ?? "")
      .filter((rs) => controllerRef(rs)?.uid === d.metadata.uid);
  }

  /**
   * The pods selected by the Deployment, by the uid of the ReplicaSet (of rsList) controlling
   * them; every ReplicaSet has an entry (upstream getPodMapForDeployment).
   */
  #podMap(d: Deployment, rsList: readonly ReplicaSet[]): Map<string, Pod[]> {
    const map = new Map<string, Pod[]>();
    for (const rs of rsList) map.set(rs.metadata.uid ?? "", []);
    const sel = deploymentSelector(d);
    if (!sel) return map;
    for (const pod of this.#podInformer.byIndex(NAMESPACE_INDEX, d.metadata.namespace ?? "")) {
      if (!sel.matches(pod.metadata.labels)) continue;
      const ref = controllerRef(pod);
      const list = ref ? map.get(ref.uid) : undefined;
      list?.push(pod);
    }
    return map;
  }

  /**
   * The ReplicaSets d controls after adopting matching orphans and releasing ones it no longer
   * selects (upstream getReplicaSetsForDeployment).
   */
  async #getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const selector = deploymentSelector(d);
    if (!selector) throw new Error(`deployment ${keyOf(d)} has an invalid selector`);
    const ns = d.metadata.namespace;
    const client = this.#ctx.client;
    const candidates = this.#rsInformer.byIndex(NAMESPACE_INDEX, ns ?? "");
    return claimObjects(candidates, {
      owner: d,
      selector,
      canAdopt: recheckDeletionTimestamp(d, () => client.get(DEPLOYMENTS, ns, d.metadata.name ?? "")),
      adopt: async (rs) => {
        const next = structuredClone(rs);
        next.metadata.ownerReferences = [
          ...(next.metadata.ownerReferences ?? []),
          {
            ...CONTROLLER_KIND,
            name: d.metadata.name ?? "",
            uid: d.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ];
        this.#log.info({ deployment: keyOf(d), rs: rs.metadata.name }, "adopting replica set");
        return client.update(REPLICASETS, ns, next);
      },
      release: async (rs) => {
        const next = structuredClone(rs);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid);
        this.#log.info({ deployment: keyOf(d), rs: rs.metadata.name }, "releasing replica set");
        await client.update(REPLICASETS, ns, next);
      },
    });
  }

  /**
   * One reconcile of the Deployment `key` (upstream syncDeployment). Throws to be retried; an
   * error because the namespace is terminating is not (nothing can be created there any more).
   */
  async sync(key: string): Promise<void> {
    try {
      await this.#syncDeployment(key);
    } catch (err) {
      if (hasNamespaceTerminatingCause(err)) {
        this.#log.debug({ key, err }, "namespace is terminating; not retrying");
        return;
      }
      throw err;
    }
  }

  async #syncDeployment(key: string): Promise<void> {
    const cached = this.#dInformer.get(key);
    if (!cached) {
      this.#log.debug({ key }, "deployment has been deleted");
      return;
    }
    // The sync's own copy: cached objects are shared and read-only.
    const d = structuredClone(cached);
    const ctx = this.#ctx;
    if (!deploymentSelector(d)) {
      ctx.recorder.event(
        d,
        "Warning",
        "SelectingAll",
        "This deployment is selecting all pods. A non-empty selector is required.",
      );
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation ?? 0 };
        await ctx.client.update(DEPLOYMENTS, d.metadata.namespace, d, { subresource: "status" });
      }
      return;
    }
    const rsList = await this.#getReplicaSetsForDeployment(d);
    if (d.metadata.deletionTimestamp) {
      await syncStatusOnly(ctx, d, rsList);
      return;
    }
    await checkPausedConditions(ctx, d);
    if (d.spec?.paused) {
      await sync(ctx, d, rsList);
      return;
    }
    if (getRollbackTo(d)) {
      await rollback(ctx, d, rsList);
      return;
    }
    if (await isScalingEvent(ctx, d, rsList)) {
      await sync(ctx, d, rsList);
      return;
    }
    const type = d.spec?.strategy?.type;
    if (type === RECREATE) {
      const podMap = (): PodMap => this.#podMap(d, rsList);
      await rolloutRecreate(ctx, d, rsList, podMap);
      return;
    }
    if (type === ROLLING_UPDATE) {
      await rolloutRolling(ctx, d, rsList);
      return;
    }
    throw new Error(`unexpected deployment strategy type: ${type}`);
  }
}

export const newDeploymentController: ControllerInit = (ctx) => new DeploymentController(ctx);
