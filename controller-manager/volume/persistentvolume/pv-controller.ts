// The PV binder (upstream pkg/controller/volume/persistentvolume/pv_controller.go, the
// persistentvolume-binder-controller): every PersistentVolumeClaim is bound to one
// PersistentVolume, both ways (pv.spec.claimRef and pvc.spec.volumeName, with
// pv.kubernetes.io/bind-completed and bound-by-controller), and the phases say where each stands
// (PV Available/Bound/Released/Failed, PVC Pending/Bound/Lost).
//
// - An unbound claim takes the best static volume (util.ts: class, size, access modes,
//   volumeMode, selector; a volume pre-bound to it by claimRef first), or the volume it names in
//   spec.volumeName; with none, a claim of a class is handed to the class's provisioner (the
//   volume.kubernetes.io/storage-provisioner annotation; the local-path provisioner is another
//   controller of this process, as an external provisioner is upstream's), a claim of a class
//   that does not exist gets ProvisioningFailed, and a claim without a class FailedBinding.
// - A WaitForFirstConsumer claim waits for the scheduler's volume.kubernetes.io/selected-node.
//   Upstream's scheduler binds static volumes itself and only sets selected-node to provision;
//   here the binder also looks for a static volume that fits the selected node before handing
//   the claim to the provisioner, so a scheduler that only sets the annotation gets both.
// - A volume whose claim is gone is Released and reclaimed: Retain keeps it; Delete of a volume a
//   provisioner made is that provisioner's (it removes the storage, then the PV); Delete of any
//   other volume fails (no deleter), as upstream's without a plugin.
//
// Level-triggered with two queues, "claims" and "volumes", one worker each as upstream (two
// claims must not race for one volume); objects this controller wrote are remembered until the
// informers catch up (upstream storeObjectUpdate), and everything is resynced every
// --pvclaimbinder-sync-period.

import { isConflict, isInvalid, isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf } from "#pkg/api/keys.js";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  type ResourceType,
  STORAGECLASSES,
} from "#pkg/api/resources.js";
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "#pkg/api/types/index.js";
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  BINDING_WAIT_FOR_FIRST_CONSUMER,
  CLAIM_BOUND,
  CLAIM_LOST,
  CLAIM_PENDING,
  claimClass,
  isDefaultStorageClass,
  RECLAIM_DELETE,
  RECLAIM_RECYCLE,
  RECLAIM_RETAIN,
  VOLUME_AVAILABLE,
  VOLUME_BOUND,
  VOLUME_FAILED,
  VOLUME_RELEASED,
} from "#pkg/api/types/storage.js";
import { type Informer, objectOf } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { bindVolumeToClaim } from "#pkg/volume/pv-helpers.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../../controller.js";
import { findBestMatchForClaim, isVolumeBoundToClaim, volumeSatisfiesClaim } from "./util.js";

export const NAME = "persistentvolume-binder-controller";
/** The events' source.component, upstream's. */
export const EVENT_COMPONENT = "persistentvolume-controller";
/** upstream --pvclaimbinder-sync-period default. */
export const DEFAULT_SYNC_PERIOD_MS = 15_000;
/** The annotation that named a claim's class before spec.storageClassName. */
const ANN_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class";
/** Pods by the claims they use ("<namespace>/<claim>"). */
const CLAIM_INDEX = "persistentvolumeclaims";

export interface PersistentVolumeControllerOptions {
  /** --pvclaimbinder-sync-period: every claim and volume is synced again this often. */
  syncPeriodMs?: number;
}

const hasAnn = (o: KubeObject, ann: string) => Object.hasOwn(o.metadata.annotations ?? {}, ann);
const withAnn = <T extends KubeObject>(o: T, ann: string, value: string): void => {
  o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [ann]: value };
};
const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The claims a pod uses: its persistentVolumeClaim volumes and its generic ephemeral ones. */
export function podClaimKeys(pod: Pod): string[] {
  const ns = pod.metadata.namespace ?? "";
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) out.push(keyFor(ns, v.persistentVolumeClaim.claimName));
    else if ((v as { ephemeral?: unknown }).ephemeral) out.push(keyFor(ns, `${pod.metadata.name}-${v.name}`));
  }
  return out;
}

/** upstream GetDefaultClass: the newest class marked default (by name on a tie). */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  let best: StorageClass | undefined;
  for (const c of classes) {
    if (!isDefaultStorageClass(c)) continue;
    if (!best) {
      best = c;
      continue;
    }
    const a = c.metadata.creationTimestamp ?? "";
    const b = best.metadata.creationTimestamp ?? "";
    if (a > b || (a === b && (c.metadata.name ?? "") < (best.metadata.name ?? ""))) best = c;
  }
  return best;
}

/**
 * Remembers objects this controller wrote, so a sync right after its own write does not act on
 * the informer's older copy (upstream storeObjectUpdate): a lookup returns whichever of the two
 * has the newer resourceVersion, and entries the informer has caught up with are dropped.
 */
class Assumed<T extends KubeObject> {
  readonly #objects = new Map<string, T>();
  constructor(readonly informer: Informer<T>) {}

  set(obj: T): void {
    this.#objects.set(keyOf(obj), obj);
  }

  delete(key: string): void {
    this.#objects.delete(key);
  }

  get(key: string): T | undefined {
    const cached = this.informer.get(key);
    const mine = this.#objects.get(key);
    if (!mine) return cached;
    if (!cached) return undefined;
    // A different uid: the object was deleted and made again; the cache's is the one.
    if (cached.metadata.uid !== mine.metadata.uid || rv(cached) >= rv(mine)) {
      this.#objects.delete(key);
      return cached;
    }
    return mine;
  }

  list(): T[] {
    return this.informer.list().map((o) => this.get(keyOf(o)) ?? o);
  }
}

const rv = (o: KubeObject): bigint => {
  try {
    return BigInt(o.metadata.resourceVersion ?? "0");
  } catch {
    return 0n;
  }
};

export class PersistentVolumeController implements Controller {
  readonly name = NAME;
  readonly claimQueue: WorkQueue;
  readonly volumeQueue: WorkQueue;
  readonly #client: ApiClient;
  readonly #volumes: Assumed<PersistentVolume>;
  readonly #claims: Assumed<PersistentVolumeClaim>;
  readonly #classes: Informer<StorageClass>;
  readonly #pods: Informer<Pod>;
  readonly #nodes: Informer<Node>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #syncPeriodMs: number;

  constructor(ctx: ControllerContext, o: PersistentVolumeControllerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#recorder = ctx.recorder(EVENT_COMPONENT);
    this.#clock = ctx.clock;
    this.#syncPeriodMs = o.syncPeriodMs ?? DEFAULT_SYNC_PERIOD_MS;
    this.claimQueue = new WorkQueue({ name: "claims", clock: ctx.clock });
    this.volumeQueue = new WorkQueue({ name: "volumes", clock: ctx.clock });
    const volumes = ctx.informers.informer(PERSISTENTVOLUMES);
    const claims = ctx.informers.informer(PERSISTENTVOLUMECLAIMS);
    this.#volumes = new Assumed(volumes);
    this.#claims = new Assumed(claims);
    this.#classes = ctx.informers.informer(STORAGECLASSES);
    this.#pods = ctx.informers.informer(PODS);
    this.#nodes = ctx.informers.informer(NODES);
    this.#pods.addIndex(CLAIM_INDEX, podClaimKeys);

    const onVolume = (pv: PersistentVolume) => {
      this.volumeQueue.add(keyOf(pv));
      // A volume that may now fit a waiting claim: upstream waits for the periodic resync; the
      // claims are few, so they are looked at at once.
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(keyFor(ref.namespace, ref.name));
      if (!ref?.uid) this.#enqueueUnboundClaims();
    };
    volumes.on("add", onVolume);
    volumes.on("update", (_old, cur) => onVolume(cur));
    volumes.on("delete", (obj) => {
      const pv = objectOf(obj);
      this.#volumes.delete(keyOf(pv));
      // The claim bound to it is Lost now.
      const ref = pv.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(keyFor(ref.namespace, ref.name));
    });
    claims.on("add", (pvc) => this.claimQueue.add(keyOf(pvc)));
    claims.on("update", (_old, cur) => this.claimQueue.add(keyOf(cur)));
    claims.on("delete", (obj) => {
      const pvc = objectOf(obj);
      this.#claims.delete(keyOf(pvc));
      // upstream deleteClaim: the volume it was bound to is released.
      if (pvc.spec?.volumeName) this.volumeQueue.add(pvc.spec.volumeName);
    });
    // A class that appears (or changes) may let waiting claims provision.
    this.#classes.on("add", () => this.#enqueueUnboundClaims());
    this.#classes.on("update", () => this.#enqueueUnboundClaims());
  }

  #enqueueUnboundClaims(): void {
    for (const c of this.#claims.list()) if (!hasAnn(c, ANN_BIND_COMPLETED)) this.claimQueue.add(keyOf(c));
  }

  async run(signal: AbortSignal, _workers: number): Promise<void> {
    this.#log.info("starting persistent volume controller");
    const synced = await waitForCacheSync(
      signal,
      this.#volumes.informer,
      this.#claims.informer,
      this.#classes,
      this.#pods,
      this.#nodes,
    );
    if (!synced) return;
    // upstream resync: every object again each period (a claim waiting for a volume that
    // appeared, a release that failed).
    let cancel = () => {};
    const resync = () => {
      if (signal.aborted) return;
      for (const v of this.#volumes.list()) this.volumeQueue.add(keyOf(v));
      for (const c of this.#claims.list()) this.claimQueue.add(keyOf(c));
      cancel = this.#clock.after(this.#syncPeriodMs, resync);
    };
    resync();
    try {
      // One worker per queue, as upstream's volumeWorker and claimWorker.
      await Promise.all([
        runWorkers(this.volumeQueue, 1, (key) => this.syncVolumeKey(key), signal, this.#log),
        runWorkers(this.claimQueue, 1, (key) => this.syncClaimKey(key), signal, this.#log),
      ]);
    } finally {
      cancel();
    }
  }

  // ---------------------------------------------------------------- claims

  async syncClaimKey(key: string): Promise<void> {
    const claim = this.#claims.get(key);
    if (!claim) return;
    await this.syncClaim(claim);
  }

  /** upstream syncClaim. Throws to be retried. */
  async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (!hasAnn(claim, ANN_BIND_COMPLETED)) await this.#syncUnboundClaim(claim);
    else await this.#syncBoundClaim(claim);
  }

  /** upstream syncUnboundClaim. */
  async #syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const log = this.#log.child({ namespace: claim.metadata.namespace, name: claim.metadata.name });
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName === "") {
      const delayBinding = this.#isDelayBindingMode(claim);
      const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      // With the scheduler's node chosen, a static volume must fit that node.
      const node = delayBinding && selected ? this.#nodes.get(selected) : undefined;
      const volume =
        delayBinding && selected && !node
          ? undefined
          : findBestMatchForClaim(claim, this.#volumes.list(), node, delayBinding);
      if (volume) {
        log.debug({ volume: volume.metadata.name }, "volume found for claim; binding");
        await this.#bind(volume, claim);
        return;
      }
      if (await this.#assignDefaultStorageClass(claim)) return;
      if (delayBinding && !selected) {
        this.#emitWaitingForConsumer(claim);
      } else if (claimClass(claim) !== "") {
        await this.#provisionClaim(claim);
        return;
      } else {
        this.#recorder.event(
          claim,
          "Normal",
          "FailedBinding",
          "no persistent volumes available for this claim and no storage class is set",
        );
      }
      await this.#updateClaimStatus(claim, CLAIM_PENDING, undefined);
      return;
    }

    // The user asked for a volume by name.
    const volume = this.#volumes.get(volumeName);
    if (!volume) {
      log.debug({ volume: volumeName }, "requested volume not found; waiting");
      await this.#updateClaimStatus(claim, CLAIM_PENDING, undefined);
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeSatisfiesClaim(volume, claim);
      if (why) {
        this.#recorder.event(
          claim,
          "Warning",
          "VolumeMismatch",
          `Cannot bind to requested volume "${volumeName}": ${why}`,
        );
        await this.#updateClaimStatus(claim, CLAIM_PENDING, undefined);
        return;
      }
      await this.#bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.#bind(volume, claim);
      return;
    }
    this.#recorder.event(
      claim,
      "Warning",
      "FailedBinding",
      `volume "${volumeName}" already bound to a different claim.`,
    );
    if (hasAnn(claim, ANN_BOUND_BY_CONTROLLER))
      throw new Error(
        `invalid binding of claim ${keyOf(claim)} to volume ${volumeName}: volume already claimed by ${volume.spec.claimRef.namespace}/${volume.spec.claimRef.name}`,
      );
    await this.#updateClaimStatus(claim, CLAIM_PENDING, undefined);
  }

  /** upstream syncBoundClaim. */
  async #syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? "";
    if (volumeName === "") {
      await this.#updateClaimStatusWithEvent(
        claim,
        CLAIM_LOST,
        "ClaimLost",
        "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    const volume = this.#volumes.get(volumeName);
    if (!volume) {
      await this.#updateClaimStatusWithEvent(
        claim,
        CLAIM_LOST,
        "ClaimLost",
        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
      );
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref || ref.uid === claim.metadata.uid) {
      // Unbound volume (or a cache that has not seen the binding yet), or all well: bind() makes
      // every side say so, writing only what differs.
      await this.#bind(volume, claim);
      return;
    }
    await this.#updateClaimStatusWithEvent(
      claim,
      CLAIM_LOST,
      "ClaimMisbound",
      "Two claims are bound to the same volume, this one is bound incorrectly",
    );
  }

  /** upstream IsDelayBindingMode: the claim's class binds WaitForFirstConsumer. */
  #isDelayBindingMode(claim: PersistentVolumeClaim): boolean {
    const name = claimClass(claim);
    if (name === "") return false;
    return this.#classes.get(name)?.volumeBindingMode === BINDING_WAIT_FOR_FIRST_CONSUMER;
  }

  /** upstream emitEventForUnboundDelayBindingClaim. */
  #emitWaitingForConsumer(claim: PersistentVolumeClaim): void {
    const pods = this.#pods
      .byIndex(CLAIM_INDEX, keyOf(claim))
      .filter((p) => !p.spec?.nodeName)
      .map((p) => p.metadata.name ?? "")
      .sort();
    if (pods.length === 0) {
      this.#recorder.event(
        claim,
        "Normal",
        "WaitForFirstConsumer",
        "waiting for first consumer to be created before binding",
      );
    } else {
      this.#recorder.event(
        claim,
        "Normal",
        "WaitForPodScheduled",
        pods.length > 1
          ? `waiting for pods ${pods.join(",")} to be scheduled`
          : `waiting for pod ${pods[0]} to be scheduled`,
      );
    }
  }

  /**
   * upstream assignDefaultStorageClass (retroactive default class): a claim that names no class
   * at all (not even "") gets the default one, once one exists. True when the claim was updated
   * (its update event syncs it again).
   */
  async #assignDefaultStorageClass(claim: PersistentVolumeClaim): Promise<boolean> {
    if (claim.spec?.storageClassName !== undefined || hasAnn(claim, ANN_BETA_STORAGE_CLASS)) return false;
    const cls = defaultClass(this.#classes.list());
    if (!cls?.metadata.name) return false;
    const next = structuredClone(claim);
    next.spec = { ...(next.spec ?? {}), storageClassName: cls.metadata.name };
    try {
      this.#claims.set(await this.#client.update(PERSISTENTVOLUMECLAIMS, claim.metadata.namespace, next));
    } catch (err) {
      // An API server that refuses the change keeps the claim as it is (no class).
      if (isInvalid(err)) {
        this.#log.warn(
          { err, namespace: claim.metadata.namespace, name: claim.metadata.name },
          "cannot assign default class",
        );
        return false;
      }
      throw err;
    }
    this.#log.info(
      { namespace: claim.metadata.namespace, name: claim.metadata.name, class: cls.metadata.name },
      "assigned the default storage class",
    );
    return true;
  }

  /**
   * upstream provisionClaim for a provisioner outside this controller: the claim is annotated
   * with the class's provisioner, which makes the volume (pre-bound to the claim by claimRef);
   * the next sync binds them.
   */
  async #provisionClaim(claim: PersistentVolumeClaim): Promise<void> {
    const name = claimClass(claim);
    const cls = this.#classes.get(name);
    if (!cls) {
      this.#recorder.event(claim, "Warning", "ProvisioningFailed", `storageclass.storage.k8s.io "${name}" not found`);
      await this.#updateClaimStatus(claim, CLAIM_PENDING, undefined);
      return;
    }
    let current = claim;
    const a = claim.metadata.annotations ?? {};
    if (a[ANN_STORAGE_PROVISIONER] !== cls.provisioner || a[ANN_BETA_STORAGE_PROVISIONER] !== cls.provisioner) {
      const next = structuredClone(claim);
      withAnn(next, ANN_STORAGE_PROVISIONER, cls.provisioner);
      withAnn(next, ANN_BETA_STORAGE_PROVISIONER, cls.provisioner);
      current = await this.#client.update(PERSISTENTVOLUMECLAIMS, claim.metadata.namespace, next);
      this.#claims.set(current);
    }
    this.#recorder.event(
      current,
      "Normal",
      "ExternalProvisioning",
      `Waiting for a volume to be created either by the external provisioner '${cls.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    await this.#updateClaimStatus(current, CLAIM_PENDING, undefined);
  }

  // ---------------------------------------------------------------- volumes

  async syncVolumeKey(key: string): Promise<void> {
    const volume = this.#volumes.get(key);
    if (!volume) return;
    await this.syncVolume(volume);
  }

  /** upstream syncVolume. Throws to be retried. */
  async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref) {
      await this.#updateVolumePhase(volume, VOLUME_AVAILABLE, "");
      return;
    }
    if (!ref.uid) {
      // Pre-bound by the user to a claim not bound yet: the claim's sync binds it.
      await this.#updateVolumePhase(volume, VOLUME_AVAILABLE, "");
      return;
    }
    let claim = await this.#claimOf(ref.namespace ?? "", ref.name ?? "");
    // The claim it pointed at was deleted, and another made with its name.
    if (claim && claim.metadata.uid !== ref.uid) claim = undefined;

    if (!claim) {
      // Keep a Failed phase for the user to see while reclaiming is retried.
      let current = volume;
      if (volume.status?.phase !== VOLUME_RELEASED && volume.status?.phase !== VOLUME_FAILED) {
        this.#log.info(
          { name: volume.metadata.name, reclaimPolicy: volume.spec?.persistentVolumeReclaimPolicy },
          "volume is released and its reclaim policy will be executed",
        );
        current = await this.#updateVolumePhase(volume, VOLUME_RELEASED, "");
      }
      await this.#reclaimVolume(current);
      return;
    }
    if (!claim.spec?.volumeName) {
      // Bound by us and the claim's half not written yet, or unbound by a user: the claim's sync
      // finishes (or re-establishes) the binding.
      this.claimQueue.add(keyOf(claim));
      return;
    }
    if (claim.spec.volumeName === volume.metadata.name) {
      await this.#updateVolumePhase(volume, VOLUME_BOUND, "");
      return;
    }
    // The claim is bound to another volume.
    if (hasAnn(volume, ANN_DYNAMICALLY_PROVISIONED) && volume.spec?.persistentVolumeReclaimPolicy === RECLAIM_DELETE) {
      let current = volume;
      if (volume.status?.phase !== VOLUME_RELEASED && volume.status?.phase !== VOLUME_FAILED)
        current = await this.#updateVolumePhase(volume, VOLUME_RELEASED, "");
      await this.#reclaimVolume(current);
      return;
    }
    await this.#unbindVolume(volume);
  }

  /** The claim from the cache, else from the API server (the cache may not have seen it yet). */
  async #claimOf(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    const cached = this.#claims.get(keyFor(namespace, name));
    if (cached) return cached;
    try {
      return await this.#client.get(PERSISTENTVOLUMECLAIMS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** upstream reclaimVolume. */
  async #reclaimVolume(volume: PersistentVolume): Promise<void> {
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? RECLAIM_RETAIN;
    switch (policy) {
      case RECLAIM_RETAIN:
        this.#log.debug({ name: volume.metadata.name }, "reclaim policy is Retain, nothing to do");
        return;
      case RECLAIM_RECYCLE:
        await this.#updateVolumePhaseWithEvent(
          volume,
          VOLUME_FAILED,
          "VolumeFailedRecycle",
          "No recycler plugin found for the volume!",
        );
        return;
      case RECLAIM_DELETE: {
        // A volume a provisioner made is deleted by that provisioner (upstream: an external
        // deleter is requested, nothing to do here). kubeling has no in-tree deleters.
        const provisioner = volume.metadata.annotations?.[ANN_DYNAMICALLY_PROVISIONED] ?? "";
        if (provisioner !== "" && !provisioner.startsWith("kubernetes.io/")) return;
        await this.#updateVolumePhaseWithEvent(
          volume,
          VOLUME_FAILED,
          "VolumeFailedDelete",
          `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`,
        );
        return;
      }
      default:
        await this.#updateVolumePhaseWithEvent(
          volume,
          VOLUME_FAILED,
          "VolumeUnknownReclaimPolicy",
          "Volume has unrecognized PersistentVolumeReclaimPolicy",
        );
    }
  }

  // ---------------------------------------------------------------- binding

  /**
   * upstream bind: the volume points at the claim and is Bound, then the claim at the volume and
   * is Bound, each write only when something differs. A failed write leaves the rest to the next
   * sync of either object.
   */
  async #bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    let v = await this.#bindVolumeToClaim(volume, claim);
    v = await this.#updateVolumePhase(v, VOLUME_BOUND, "");
    let c = await this.#bindClaimToVolume(claim, v);
    c = await this.#updateClaimStatus(c, CLAIM_BOUND, v);
    this.#log.info(
      { namespace: c.metadata.namespace, name: c.metadata.name, volume: v.metadata.name },
      "claim bound to volume",
    );
  }

  /** upstream GetBindVolumeToClaim + update. */
  async #bindVolumeToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<PersistentVolume> {
    const { volume: next, dirty } = bindVolumeToClaim(volume, claim);
    if (!dirty) return volume;
    const saved = await this.#client.update(PERSISTENTVOLUMES, undefined, next);
    this.#volumes.set(saved);
    return saved;
  }

  /** upstream bindClaimToVolume. */
  async #bindClaimToVolume(claim: PersistentVolumeClaim, volume: PersistentVolume): Promise<PersistentVolumeClaim> {
    const name = volume.metadata.name ?? "";
    const next = structuredClone(claim);
    let dirty = false;
    if (claim.spec?.volumeName !== name) {
      next.spec = { ...(next.spec ?? {}), volumeName: name };
      if (!hasAnn(next, ANN_BOUND_BY_CONTROLLER)) withAnn(next, ANN_BOUND_BY_CONTROLLER, "yes");
      dirty = true;
    }
    if (!hasAnn(next, ANN_BIND_COMPLETED)) {
      withAnn(next, ANN_BIND_COMPLETED, "yes");
      dirty = true;
    }
    if (!dirty) return claim;
    const saved = await this.#client.update(PERSISTENTVOLUMECLAIMS, claim.metadata.namespace, next);
    this.#claims.set(saved);
    return saved;
  }

  /** upstream unbindVolume: back to Available (a user's pre-binding keeps its claim, without uid). */
  async #unbindVolume(volume: PersistentVolume): Promise<void> {
    const next = structuredClone(volume);
    if (hasAnn(volume, ANN_BOUND_BY_CONTROLLER)) {
      if (next.spec) delete next.spec.claimRef;
      const annotations = { ...(next.metadata.annotations ?? {}) };
      delete annotations[ANN_BOUND_BY_CONTROLLER];
      if (Object.keys(annotations).length > 0) next.metadata.annotations = annotations;
      else delete next.metadata.annotations;
    } else if (next.spec?.claimRef) {
      next.spec.claimRef.uid = "";
    }
    const saved = await this.#client.update(PERSISTENTVOLUMES, undefined, next);
    this.#volumes.set(saved);
    await this.#updateVolumePhase(saved, VOLUME_AVAILABLE, "");
  }

  // ---------------------------------------------------------------- status

  /** upstream updateClaimStatus: phase, and accessModes/capacity from the volume (reset without one). */
  async #updateClaimStatus(
    claim: PersistentVolumeClaim,
    phase: string,
    volume: PersistentVolume | undefined,
  ): Promise<PersistentVolumeClaim> {
    const status = { ...(claim.status ?? {}) };
    let dirty = false;
    if (status.phase !== phase) {
      status.phase = phase;
      dirty = true;
    }
    if (!volume) {
      if (status.accessModes !== undefined) {
        delete status.accessModes;
        dirty = true;
      }
      if (status.capacity !== undefined) {
        delete status.capacity;
        dirty = true;
      }
    } else {
      if (!sameJSON(status.accessModes, volume.spec?.accessModes)) {
        status.accessModes = [...(volume.spec?.accessModes ?? [])];
        dirty = true;
      }
      const capacity = volume.spec?.capacity;
      if (capacity?.storage === undefined)
        throw new Error(`PersistentVolume "${volume.metadata.name}" is without a storage capacity`);
      if (!sameJSON(status.capacity, capacity)) {
        status.capacity = { ...capacity };
        dirty = true;
      }
    }
    if (!dirty) return claim;
    const next: PersistentVolumeClaim = { ...structuredClone(claim), status };
    const saved = await this.#writeStatus(PERSISTENTVOLUMECLAIMS, claim.metadata.namespace, next);
    this.#claims.set(saved);
    if (claim.status?.phase !== phase)
      this.#log.info({ namespace: claim.metadata.namespace, name: claim.metadata.name, phase }, "claim entered phase");
    return saved;
  }

  /** upstream updateClaimStatusWithEvent: the event only when the phase changes. */
  async #updateClaimStatusWithEvent(
    claim: PersistentVolumeClaim,
    phase: string,
    reason: string,
    message: string,
  ): Promise<void> {
    if (claim.status?.phase === phase) return;
    const saved = await this.#updateClaimStatus(claim, phase, undefined);
    this.#recorder.event(saved, "Warning", reason, message);
  }

  /** upstream updateVolumePhase. */
  async #updateVolumePhase(volume: PersistentVolume, phase: string, message: string): Promise<PersistentVolume> {
    if (volume.status?.phase === phase) return volume;
    const next: PersistentVolume = structuredClone(volume);
    next.status = { ...(next.status ?? {}), phase };
    if (message) next.status.message = message;
    else delete next.status.message;
    const saved = await this.#writeStatus(PERSISTENTVOLUMES, undefined, next);
    this.#volumes.set(saved);
    this.#log.info({ name: volume.metadata.name, phase }, "volume entered phase");
    return saved;
  }

  /** upstream updateVolumePhaseWithEvent: the event only when the phase changes. */
  async #updateVolumePhaseWithEvent(
    volume: PersistentVolume,
    phase: string,
    reason: string,
    message: string,
  ): Promise<void> {
    if (volume.status?.phase === phase) return;
    const saved = await this.#updateVolumePhase(volume, phase, message);
    this.#recorder.event(saved, "Warning", reason, message);
  }

  async #writeStatus<T extends KubeObject>(r: ResourceType<T>, ns: string | undefined, obj: T): Promise<T> {
    try {
      return await this.#client.update(r, ns, obj, { subresource: "status" });
    } catch (err) {
      // A conflict: the cache is behind; the retry reads it again.
      if (isConflict(err)) this.#log.debug({ name: obj.metadata.name }, "status conflict; retrying");
      throw err;
    }
  }
}

export function newPersistentVolumeController(ctx: ControllerContext): Controller {
  return new PersistentVolumeController(ctx, ctx.options?.persistentVolume ?? {});
}
