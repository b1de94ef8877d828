// ControllerExpectations (upstream pkg/controller/controller_utils.go): "a cache mapping
// controllers to what they expect to see before being woken up for a sync". After a controller
// creates N pods it must not create them again just because its informer has not seen them yet:
// it records the expectation, the pod informer's handlers lower it, and sync acts only when the
// expectations are satisfied (or have expired, in case an event was lost).

import { type Clock, realClock } from "../runtime/clock.js";

/** Upstream ExpectationsTimeout: after this an unmet expectation no longer blocks syncs. */
export const EXPECTATIONS_TTL_MS = 5 * 60_000;

interface Record {
  add: number;
  del: number;
  /** UIDs whose deletion we wait for (UIDTrackingControllerExpectations). */
  deleting: Set<string>;
  at: number;
}

export class ControllerExpectations {
  readonly #records = new Map<string, Record>();
  readonly #clock: Clock;
  readonly #ttlMs: number;

  constructor(o: { clock?: Clock; ttlMs?: number } = {}) {
    this.#clock = o.clock ?? realClock;
    this.#ttlMs = o.ttlMs ?? EXPECTATIONS_TTL_MS;
  }

  /** The controller (key) is about to create n objects. Replaces earlier expectations. */
  expectCreations(key: string, n: number): void {
    this.#records.set(key, { add: n, del: 0, deleting: new Set(), at: this.#clock.now() });
  }

  /** The controller is about to delete these objects (by uid), or n objects. Replaces earlier expectations. */
  expectDeletions(key: string, uids: readonly string[] | number): void {
    const deleting = new Set(typeof uids === "number" ? [] : uids);
    const del = typeof uids === "number" ? uids : deleting.size;
    this.#records.set(key, { add: 0, del, deleting, at: this.#clock.now() });
  }

  /**
   * The controller is about to create `add` objects and delete `del` in the same sync (upstream
   * SetExpectations, as the DaemonSet controller uses it). Replaces earlier expectations.
   */
  setExpectations(key: string, add: number, del: number): void {
    this.#records.set(key, { add, del, deleting: new Set(), at: this.#clock.now() });
  }

  /** An informer saw one of the expected creations (or a create call failed: it will never be seen). */
  creationObserved(key: string): void {
    const r = this.#records.get(key);
    if (r && r.add > 0) r.add--;
  }

  /** An informer saw a deletion (or a delete call failed). With a uid, only an expected uid counts. */
  deletionObserved(key: string, uid?: string): void {
    const r = this.#records.get(key);
    if (!r) return;
    if (uid !== undefined && r.deleting.size > 0) {
      if (!r.deleting.delete(uid)) return;
    }
    if (r.del > 0) r.del--;
  }

  /** True when the controller may sync: nothing pending, no record, or the record expired. */
  satisfied(key: string): boolean {
    const r = this.#records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.#clock.now() - r.at > this.#ttlMs;
  }

  /** Pending counts, for logs. */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.#records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }

  /** The controller object is gone: forget its expectations. */
  delete(key: string): void {
    this.#records.delete(key);
  }
}
