// claimObjects: upstream's BaseControllerRefManager.ClaimObject over a list (controller_ref_manager.go).
// A controller owns the objects whose controllerRef names it; it adopts orphans its selector
// matches (after a fresh read confirms it is not being deleted) and releases owned objects its
// selector no longer matches. Objects controlled by someone else are never touched.

import { isNotFound } from "../api/errors.js";
import type { Selector } from "../api/labels.js";
import type { KubeObject } from "../api/meta.js";
import { controllerRef } from "./owners.js";

export interface ClaimOptions<T extends KubeObject> {
  /** The controller claiming. */
  owner: KubeObject;
  selector: Selector;
  /**
   * Throws when the owner may not adopt (upstream RecheckDeletionTimestamp: a fresh read shows
   * it gone, replaced, or being deleted). Called at most once, before the first adoption.
   */
  canAdopt(): Promise<void>;
  /** Makes the owner obj's controller; returns the updated object. */
  adopt(obj: T): Promise<T>;
  /** Removes the owner's reference from obj. */
  release(obj: T): Promise<void>;
}

/**
 * claimObjects: the objects of `objs` the owner controls after adopting and releasing. All are
 * tried; the first error (other than NotFound, an object already gone) is thrown after, so the
 * sync is retried.
 */
export async function claimObjects<T extends KubeObject>(objs: readonly T[], o: ClaimOptions<T>): Promise<T[]> {
  const uid = o.owner.metadata.uid;
  const ownerDeleting = o.owner.metadata.deletionTimestamp !== undefined;
  const ownerNs = o.owner.metadata.namespace;
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let recheck: Promise<void> | undefined;
  for (const obj of objs) {
    const ref = controllerRef(obj);
    const matches = o.selector.matches(obj.metadata.labels);
    try {
      if (ref) {
        if (ref.uid !== uid) continue;
        if (matches) {
          claimed.push(obj);
          continue;
        }
        // Ours but no longer selected: let it go, unless we are being deleted anyway.
        if (ownerDeleting) continue;
        await o.release(obj);
        continue;
      }
      if (ownerDeleting || !matches || obj.metadata.deletionTimestamp) continue;
      if (ownerNs && ownerNs !== obj.metadata.namespace) continue;
      recheck ??= o.canAdopt();
      await recheck;
      claimed.push(await o.adopt(obj));
    } catch (err) {
      if (!isNotFound(err)) errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
  return claimed;
}

/**
 * recheckDeletionTimestamp: a canAdopt that reads the owner fresh and refuses when it is another
 * object by now (uid) or is being deleted.
 */
export function recheckDeletionTimestamp(owner: KubeObject, getFresh: () => Promise<KubeObject>): () => Promise<void> {
  return async () => {
    const { namespace, name } = owner.metadata;
    const fresh = await getFresh();
    if (fresh.metadata.uid !== owner.metadata.uid) {
      throw new Error(
        `original ${owner.kind ?? "object"} ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`,
      );
    }
    if (fresh.metadata.deletionTimestamp) {
      throw new Error(`${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  };
}
