// Owner references: how controllers find what they own, and how events on owned objects are
// mapped to the owner's work-queue key (sample-controller's handleObject).

import { keyFor, keyOf } from "../api/keys.js";
import type { KubeObject, OwnerReference } from "../api/meta.js";
import { objectOf, type Tombstone } from "../cache/reflector.js";

/** The ownerReference with controller: true, if any. */
export function controllerRef(obj: Pick<KubeObject, "metadata">): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** An ownerReference making `owner` the controller of a new object (as upstream NewControllerRef). */
export function newControllerRef(owner: KubeObject): OwnerReference {
  if (!owner.apiVersion || !owner.kind || !owner.metadata.name || !owner.metadata.uid)
    throw new Error(
      `cannot reference ${owner.kind ?? "object"} "${owner.metadata.name ?? ""}": apiVersion, kind, name and uid are required`,
    );
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isControlledBy(obj: Pick<KubeObject, "metadata">, owner: Pick<KubeObject, "metadata">): boolean {
  const ref = controllerRef(obj);
  return ref !== undefined && ref.uid === owner.metadata.uid;
}

/** The queue key of an informer event's object, tombstones included. */
export function keyOfEvent<T extends KubeObject>(obj: T | Tombstone<T>): string {
  return keyOf(objectOf(obj));
}

/**
 * The queue key of obj's controller when it is of `kind` (same namespace, as owner references
 * never cross namespaces), e.g. a Pod event -> its ReplicaSet's key.
 */
export function controllerKeyOf<T extends KubeObject>(obj: T | Tombstone<T>, kind: string): string | undefined {
  const o = objectOf(obj);
  const ref = controllerRef(o);
  if (!ref || ref.kind !== kind) return undefined;
  return keyFor(o.metadata.namespace, ref.name);
}
