// The PV protection controller (upstream pkg/controller/volume/pvprotection): a volume being
// deleted keeps its kubernetes.io/pv-protection finalizer (added by the
// StorageObjectInUseProtection admission plugin) while it is Bound to a claim, and loses it once
// it is not, so the volume goes. A volume not being deleted that lacks the finalizer gets it.
// Keys are volume names; volumes being deleted or lacking the finalizer are enqueued on every
// change (the PV controller moving a Released volume out of Bound is such a change).

import { isNotFound } from "#pkg/api/errors.js";
import { PERSISTENTVOLUMES } from "#pkg/api/resources.js";
import { type PersistentVolume, PV_PROTECTION_FINALIZER, VOLUME_BOUND } from "#pkg/api/types/storage.js";
import type { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../../controller.js";
import { isDeletionCandidate, needToAddFinalizer } from "../pvcprotection/pvc-protection-controller.js";

export const NAME = "persistentvolume-protection-controller";

/** upstream isBeingUsed: the PV controller says a volume is in use by its Bound phase. */
export const isBeingUsed = (pv: PersistentVolume): boolean => pv.status?.phase === VOLUME_BOUND;

export class PVProtectionController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #volumes: Informer<PersistentVolume>;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.queue = new WorkQueue({ name: "pvprotection", clock: ctx.clock });
    this.#volumes = ctx.informers.informer(PERSISTENTVOLUMES);
    const onVolume = (pv: PersistentVolume) => {
      if (needToAddFinalizer(pv, PV_PROTECTION_FINALIZER) || isDeletionCandidate(pv, PV_PROTECTION_FINALIZER))
        this.queue.add(pv.metadata.name ?? "");
    };
    this.#volumes.on("add", onVolume);
    this.#volumes.on("update", (_old, pv) => onVolume(pv));
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  async sync(name: string): Promise<void> {
    const pv = this.#volumes.get(name);
    if (!pv) return;
    if (isDeletionCandidate(pv, PV_PROTECTION_FINALIZER)) {
      if (!isBeingUsed(pv)) {
        await this.#setFinalizer(pv, false);
        return;
      }
      this.#log.debug({ name }, "keeping the volume: it is Bound");
    }
    if (needToAddFinalizer(pv, PV_PROTECTION_FINALIZER)) await this.#setFinalizer(pv, true);
  }

  async #setFinalizer(pv: PersistentVolume, add: boolean): Promise<void> {
    const next = structuredClone(pv);
    const fs = (next.metadata.finalizers ?? []).filter((f) => f !== PV_PROTECTION_FINALIZER);
    if (add) fs.push(PV_PROTECTION_FINALIZER);
    next.metadata.finalizers = fs;
    try {
      await this.#client.update(PERSISTENTVOLUMES, undefined, next);
      this.#log.info(
        { name: pv.metadata.name },
        add ? "added the protection finalizer" : "removed the protection finalizer",
      );
    } catch (err) {
      // Gone already: nothing to protect. A conflict (the cache is behind) is retried.
      if (!isNotFound(err)) throw err;
    }
  }
}

export function newPVProtectionController(ctx: ControllerContext): Controller {
  return new PVProtectionController(ctx);
}
