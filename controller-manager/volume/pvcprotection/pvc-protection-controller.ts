// The PVC protection controller (upstream pkg/controller/volume/pvcprotection): a claim being
// deleted keeps its kubernetes.io/pvc-protection finalizer (added by the
// StorageObjectInUseProtection admission plugin) while a scheduled pod that has not terminated
// uses it, and loses it once none does, so the claim goes. A claim that is not being deleted and
// lacks the finalizer (made before the plugin was on) gets it. Keys are namespace/name of claims:
// claims that are being deleted or lack the finalizer, and the claims of every pod that can
// no longer block one (deleted, terminated, or not yet scheduled), are enqueued.

import { isNotFound } from "#pkg/api/errors.js";
import { keyOf, splitKey } from "#pkg/api/keys.js";
import { PERSISTENTVOLUMECLAIMS, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import { type PersistentVolumeClaim, PVC_PROTECTION_FINALIZER } from "#pkg/api/types/storage.js";
import type { Informer } from "#pkg/cache/informer.js";
import { objectOf, type Tombstone } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../../controller.js";

export const NAME = "persistentvolumeclaim-protection-controller";
/** The pods informer's index of claims a pod names: "<namespace>/<claim>". */
export const POD_PVC_INDEX = "pod-pvc-index";

/** upstream protectionutil.IsDeletionCandidate. */
export function isDeletionCandidate(
  obj: { metadata: { deletionTimestamp?: string; finalizers?: string[] } },
  f: string,
) {
  return obj.metadata.deletionTimestamp !== undefined && (obj.metadata.finalizers ?? []).includes(f);
}

/** upstream protectionutil.NeedToAddFinalizer. */
export function needToAddFinalizer(
  obj: { metadata: { deletionTimestamp?: string; finalizers?: string[] } },
  f: string,
) {
  return obj.metadata.deletionTimestamp === undefined && !(obj.metadata.finalizers ?? []).includes(f);
}

/** The claims a pod's volumes name: persistentVolumeClaim sources and generic ephemeral volumes (<pod>-<volume>). */
export function claimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral) out.push(`${pod.metadata.name ?? ""}-${v.name}`);
  }
  return out;
}

const isTerminated = (pod: Pod) => pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";

/**
 * podUsesClaim: a scheduled pod that has not terminated and names the claim (the kubelet sees
 * pods only once scheduled, and starts none whose claim is being deleted).
 */
export function podUsesClaim(pod: Pod, claim: PersistentVolumeClaim): boolean {
  if (!pod.spec?.nodeName || isTerminated(pod)) return false;
  return claimNames(pod).includes(claim.metadata.name ?? "");
}

export class PVCProtectionController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #claims: Informer<PersistentVolumeClaim>;
  readonly #pods: Informer<Pod>;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.queue = new WorkQueue({ name: "pvcprotection", clock: ctx.clock });
    this.#claims = ctx.informers.informer(PERSISTENTVOLUMECLAIMS);
    this.#pods = ctx.informers.informer(PODS);
    if (!this.#pods.store.hasIndex(POD_PVC_INDEX))
      this.#pods.addIndex(POD_PVC_INDEX, (pod) => claimNames(pod).map((c) => `${pod.metadata.namespace ?? ""}/${c}`));
    const onClaim = (pvc: PersistentVolumeClaim) => {
      if (needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER) || isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER))
        this.queue.add(keyOf(pvc));
    };
    this.#claims.on("add", onClaim);
    this.#claims.on("update", (_old, pvc) => onClaim(pvc));
    this.#pods.on("add", (pod) => this.#podChanged(undefined, pod, false));
    this.#pods.on("update", (old, pod) => this.#podChanged(old, pod, false));
    this.#pods.on("delete", (pod: Pod | Tombstone<Pod>) => this.#podChanged(undefined, objectOf(pod), true));
  }

  /** upstream podAddedDeletedUpdated: the claims a pod that stopped blocking them may free. */
  #podChanged(old: Pod | undefined, pod: Pod, deleted: boolean): void {
    this.#enqueueClaims(pod, deleted);
    // An update may hide the deletion of a pod and the creation of another of the same name.
    if (old && old.metadata.uid !== pod.metadata.uid) this.#enqueueClaims(old, true);
  }

  #enqueueClaims(pod: Pod, deleted: boolean): void {
    // A running, scheduled pod cannot help a claim lose its finalizer.
    if (!deleted && !isTerminated(pod) && pod.spec?.nodeName) return;
    for (const c of claimNames(pod)) this.queue.add(`${pod.metadata.namespace ?? ""}/${c}`);
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  async sync(key: string): Promise<void> {
    const pvc = this.#claims.get(key);
    if (!pvc) return;
    const { namespace, name } = splitKey(key);
    if (isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER)) {
      if (!(await this.#isBeingUsed(pvc))) {
        await this.#setFinalizer(pvc, false);
        return;
      }
      this.#log.debug({ namespace, name }, "keeping the claim: a pod uses it");
    }
    if (needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER)) await this.#setFinalizer(pvc, true);
  }

  /** upstream isBeingUsed: the informer first; none there, a live list to be sure (the cache may lag). */
  async #isBeingUsed(pvc: PersistentVolumeClaim): Promise<boolean> {
    const ns = pvc.metadata.namespace ?? "";
    const cached = this.#pods.byIndex(POD_PVC_INDEX, `${ns}/${pvc.metadata.name ?? ""}`);
    if (cached.some((p) => podUsesClaim(p, pvc))) return true;
    const live = await this.#client.list(PODS, ns);
    return live.items.some((p) => podUsesClaim(p, pvc));
  }

  async #setFinalizer(pvc: PersistentVolumeClaim, add: boolean): Promise<void> {
    const next = structuredClone(pvc);
    const fs = (next.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER);
    if (add) fs.push(PVC_PROTECTION_FINALIZER);
    next.metadata.finalizers = fs;
    const log = { namespace: pvc.metadata.namespace, name: pvc.metadata.name };
    try {
      await this.#client.update(PERSISTENTVOLUMECLAIMS, pvc.metadata.namespace, next);
      this.#log.info(log, add ? "added the protection finalizer" : "removed the protection finalizer");
    } catch (err) {
      // Gone already: nothing to protect. A conflict (the cache is behind) is retried.
      if (!isNotFound(err)) throw err;
    }
  }
}

export function newPVCProtectionController(ctx: ControllerContext): Controller {
  return new PVCProtectionController(ctx);
}
