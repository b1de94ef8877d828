// The storage admission plugins (upstream plugin/pkg/admission/storage):
// - DefaultStorageClass (storageclass/setdefault): a new claim that names no class (neither
//   spec.storageClassName, even "", nor the beta annotation) gets the default class, the newest
//   class annotated storageclass.kubernetes.io/is-default-class: "true" (ties: by name);
// - StorageObjectInUseProtection (storageobjectinuseprotection): new claims carry the
//   kubernetes.io/pvc-protection finalizer and new volumes kubernetes.io/pv-protection, which
//   the pvc- and pv-protection controllers remove once nothing uses them;
// - PersistentVolumeClaimResize (persistentvolume/resize): a claim's storage request may grow
//   only when it is bound and its class allows volume expansion.

import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES } from "#pkg/api/resources.js";
import {
  CLAIM_BOUND,
  claimClass,
  isDefaultStorageClass,
  type PersistentVolume,
  type PersistentVolumeClaim,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  type StorageClass,
} from "#pkg/api/types/storage.js";
import { storageOf } from "../../registry/core/persistentvolume/validation.js";
import { ANN_BETA_STORAGE_CLASS } from "../../registry/core/persistentvolumeclaim/strategy.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";

export const DEFAULT_STORAGE_CLASS = "DefaultStorageClass";
export const STORAGE_OBJECT_IN_USE_PROTECTION = "StorageObjectInUseProtection";
export const PERSISTENT_VOLUME_CLAIM_RESIZE = "PersistentVolumeClaimResize";

const isMain = (a: Attributes, r: { group: string; resource: string }) =>
  a.subresource === "" && a.resource.group === r.group && a.resource.resource === r.resource;

/** upstream helper.PersistentVolumeClaimHasClass: the beta annotation or spec.storageClassName, even "". */
function hasClass(pvc: PersistentVolumeClaim): boolean {
  return pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] !== undefined || pvc.spec?.storageClassName !== undefined;
}

/** upstream volumeutil.GetDefaultClass: the newest default class, ties broken by name. */
export function defaultClass(classes: readonly StorageClass[]): StorageClass | undefined {
  const defaults = classes.filter(isDefaultStorageClass);
  const created = (sc: StorageClass) => Date.parse(sc.metadata.creationTimestamp ?? "") || 0;
  defaults.sort((x, y) => {
    const d = created(y) - created(x);
    if (d !== 0) return d;
    return (x.metadata.name ?? "") < (y.metadata.name ?? "") ? -1 : 1;
  });
  return defaults[0];
}

const classes = async (ctx: AdmissionContext) => (await ctx.current(STORAGECLASSES, "")) as StorageClass[];

export function newDefaultStorageClass(ctx: AdmissionContext): AdmissionPlugin {
  return {
    name: DEFAULT_STORAGE_CLASS,
    handles: (op: Operation) => op === "CREATE",
    async admit(a) {
      if (!isMain(a, PERSISTENTVOLUMECLAIMS)) return;
      const pvc = a.object as PersistentVolumeClaim | undefined;
      if (!pvc?.metadata || hasClass(pvc)) return;
      const def = defaultClass(await classes(ctx));
      if (!def?.metadata.name) return;
      pvc.spec ??= {};
      pvc.spec.storageClassName = def.metadata.name;
      ctx.log.debug(
        { namespace: pvc.metadata.namespace, name: pvc.metadata.name, class: def.metadata.name },
        "default storage class set",
      );
    },
  };
}

function addFinalizer(obj: PersistentVolume | PersistentVolumeClaim, finalizer: string): void {
  const fs = obj.metadata.finalizers ?? [];
  if (!fs.includes(finalizer)) obj.metadata.finalizers = [...fs, finalizer];
}

export function newStorageObjectInUseProtection(): AdmissionPlugin {
  return {
    name: STORAGE_OBJECT_IN_USE_PROTECTION,
    handles: (op: Operation) => op === "CREATE",
    async admit(a) {
      const obj = a.object as PersistentVolume | PersistentVolumeClaim | undefined;
      if (!obj?.metadata) return;
      if (isMain(a, PERSISTENTVOLUMES)) addFinalizer(obj, PV_PROTECTION_FINALIZER);
      else if (isMain(a, PERSISTENTVOLUMECLAIMS)) addFinalizer(obj, PVC_PROTECTION_FINALIZER);
    },
  };
}

export function newPersistentVolumeClaimResize(ctx: AdmissionContext): AdmissionPlugin {
  return {
    name: PERSISTENT_VOLUME_CLAIM_RESIZE,
    handles: (op: Operation) => op === "UPDATE",
    async validate(a) {
      if (!isMain(a, PERSISTENTVOLUMECLAIMS)) return;
      const pvc = a.object as PersistentVolumeClaim | undefined;
      const old = a.oldObject as PersistentVolumeClaim | undefined;
      if (!pvc?.metadata || !old?.metadata) return;
      const oldSize = storageOf(old.spec?.resources?.requests) ?? 0n;
      const newSize = storageOf(pvc.spec?.resources?.requests) ?? 0n;
      if (newSize <= oldSize) return;
      if (old.status?.phase !== CLAIM_BOUND)
        throw admissionForbidden(a, "Only bound persistent volume claims can be expanded");
      const cls = claimClass(pvc);
      const oldCls = claimClass(old);
      const sc = cls && cls === oldCls ? (await classes(ctx)).find((c) => c.metadata.name === cls) : undefined;
      if (sc?.allowVolumeExpansion !== true)
        throw admissionForbidden(
          a,
          "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize",
        );
    },
  };
}
