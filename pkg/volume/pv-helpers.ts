// PersistentVolume matching and binding helpers shared by the scheduler's VolumeBinding plugin
// and the PV binder (upstream k8s.io/component-helpers/storage/volume pv_helpers.go and
// helpers.go): is a PV bound to a claim, do access and volume modes fit, does a PV's node
// affinity admit a node, which Available PV is the smallest match for a claim, and the PV with
// its claimRef set for a claim.

import { selectorFromLabelSelector } from "../api/labels.js";
import { nodeSelectorMatches } from "../api/node-selector.js";
import { parseQuantityExact } from "../api/quantity.js";
import {
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  BINDING_WAIT_FOR_FIRST_CONSUMER,
  claimClass,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
  VOLUME_AVAILABLE,
  VOLUME_MODE_FILESYSTEM,
  volumeClass,
} from "../api/types/index.js";

/** The provisioner of classes whose PVs are made by hand (upstream NotSupportedProvisioner). */
export const NOT_SUPPORTED_PROVISIONER = "kubernetes.io/no-provisioner";

/** quantityNanos: a quantity exactly (nano-units), 0 when absent or unparseable. */
function quantityNanos(q: string | number | undefined): bigint {
  if (q === undefined) return 0n;
  try {
    return parseQuantityExact(q).nanos;
  } catch {
    return 0n;
  }
}

/** The storage a claim requests. */
export function claimRequest(pvc: PersistentVolumeClaim): bigint {
  return quantityNanos(pvc.spec?.resources?.requests?.storage);
}

/** The storage a volume offers. */
export function volumeCapacity(pv: PersistentVolume): bigint {
  return quantityNanos(pv.spec?.capacity?.storage);
}

/** isVolumeBoundToClaim: the PV's claimRef names the claim (and its uid, when the ref has one). */
export function isVolumeBoundToClaim(pv: PersistentVolume, pvc: PersistentVolumeClaim): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata.name || (ref.namespace ?? "") !== (pvc.metadata.namespace ?? "")) return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

/** checkAccessModes: the PV offers every access mode the claim asks for. */
export function checkAccessModes(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  const offered = new Set(pv.spec?.accessModes ?? []);
  return (pvc.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** volumeModeMismatch: claim and volume differ in volumeMode (both default to Filesystem). */
export function volumeModeMismatch(pvc: PersistentVolumeClaim, pv: PersistentVolume): boolean {
  return (pvc.spec?.volumeMode || VOLUME_MODE_FILESYSTEM) !== (pv.spec?.volumeMode || VOLUME_MODE_FILESYSTEM);
}

/**
 * checkNodeAffinity: the PV's required node affinity admits a node with these labels (upstream
 * CheckNodeAffinity matches labels only: a matchFields term on metadata.name matches nothing).
 * A PV without node affinity admits every node.
 */
export function checkNodeAffinity(pv: PersistentVolume, node: Pick<Node, "metadata">): boolean {
  const required = pv.spec?.nodeAffinity?.required;
  if (!required) return true;
  return nodeSelectorMatches(required, { metadata: { labels: node.metadata.labels ?? {} } });
}

/** isClaimFullyBound: the claim names its volume and the binder finished (upstream isPVCFullyBound). */
export function isClaimFullyBound(pvc: PersistentVolumeClaim): boolean {
  return !!pvc.spec?.volumeName && Object.hasOwn(pvc.metadata.annotations ?? {}, ANN_BIND_COMPLETED);
}

/**
 * isDelayBindingMode: the claim's class binds at first consumer. No class, or a class that does
 * not exist, is Immediate (upstream IsDelayBindingMode: the PV controller reports the missing
 * class on the claim).
 */
export function isDelayBindingMode(
  pvc: PersistentVolumeClaim,
  storageClass: (name: string) => StorageClass | undefined,
): boolean {
  const name = claimClass(pvc);
  if (!name) return false;
  return storageClass(name)?.volumeBindingMode === BINDING_WAIT_FOR_FIRST_CONSUMER;
}

/**
 * findMatchingVolume (upstream FindMatchingVolume): a PV pre-bound to the claim, else the
 * smallest Available PV of the claim's class that is big enough, has the claim's volume mode and
 * (with a node: the scheduler's path) admits the node and offers the claim's access modes, whose
 * labels match the claim's selector. Without a node (the binder's path) a delayed-binding claim
 * only takes a pre-bound PV: the scheduler picks the others. excluded names PVs already chosen.
 */
export function findMatchingVolume(
  pvc: PersistentVolumeClaim,
  volumes: Iterable<PersistentVolume>,
  node: Pick<Node, "metadata"> | undefined,
  excluded: ReadonlySet<string>,
  delayBinding: boolean,
): PersistentVolume | undefined {
  const requested = claimRequest(pvc);
  const requestedClass = claimClass(pvc);
  const selector = pvc.spec?.selector ? selectorFromLabelSelector(pvc.spec.selector) : undefined;
  let smallest: PersistentVolume | undefined;
  let smallestQty = 0n;
  for (const pv of volumes) {
    if (excluded.has(pv.metadata.name ?? "")) continue;
    if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) continue;
    const qty = volumeCapacity(pv);
    if (qty < requested) continue;
    if (volumeModeMismatch(pvc, pv)) continue;
    if (pv.metadata.deletionTimestamp) continue;
    const affinityOk = node ? checkNodeAffinity(pv, node) : true;
    if (isVolumeBoundToClaim(pv, pvc)) {
      // Pre-bound: this PV or nothing (a pre-bound PV that does not admit the node rules it out).
      return affinityOk ? pv : undefined;
    }
    if (!node && delayBinding) continue;
    if (pv.status?.phase !== VOLUME_AVAILABLE) continue;
    if (selector && !selector.matches(pv.metadata.labels ?? {})) continue;
    if (volumeClass(pv) !== requestedClass) continue;
    if (!affinityOk) continue;
    if (node && !checkAccessModes(pvc, pv)) continue;
    if (!smallest || smallestQty > qty) {
      smallest = pv;
      smallestQty = qty;
    }
  }
  return smallest;
}

/**
 * bindVolumeToClaim (upstream GetBindVolumeToClaim): a copy of the PV whose claimRef names the
 * claim, marked bound-by-controller when the user had not pre-bound it; dirty when it changed.
 */
export function bindVolumeToClaim(
  pv: PersistentVolume,
  pvc: PersistentVolumeClaim,
): { volume: PersistentVolume; dirty: boolean } {
  const setBoundByController = !isVolumeBoundToClaim(pv, pvc);
  const volume = structuredClone(pv);
  let dirty = false;
  const ref = pv.spec?.claimRef;
  if (
    !ref ||
    ref.name !== pvc.metadata.name ||
    ref.namespace !== pvc.metadata.namespace ||
    ref.uid !== pvc.metadata.uid
  ) {
    volume.spec = {
      ...volume.spec,
      claimRef: {
        kind: "PersistentVolumeClaim",
        apiVersion: "v1",
        namespace: pvc.metadata.namespace ?? "",
        name: pvc.metadata.name ?? "",
        uid: pvc.metadata.uid ?? "",
        resourceVersion: pvc.metadata.resourceVersion ?? "",
      },
    };
    dirty = true;
  }
  if (setBoundByController && !Object.hasOwn(volume.metadata.annotations ?? {}, ANN_BOUND_BY_CONTROLLER)) {
    volume.metadata.annotations = { ...volume.metadata.annotations, [ANN_BOUND_BY_CONTROLLER]: "yes" };
    dirty = true;
  }
  return { volume, dirty };
}
