// AssumeCache (upstream pkg/scheduler/util/assumecache): an informer's objects with in-memory
// "assumed" versions laid over them. VolumeBinding assumes at Reserve what PreBind will write
// (a claim's selected-node annotation, a PV's claimRef), so the pods scheduled meanwhile see
// those decisions; an assumption lasts until the informer delivers a newer version of the
// object (the write landed, or someone else changed it) or it is restored (Unreserve).

import type { KubeObject } from "#pkg/api/meta.js";

interface Assumed<T> {
  obj: T;
  /** The informer's resourceVersion the assumption was made over. */
  baseRv: string | undefined;
}

export interface AssumeSource<T extends KubeObject> {
  get(key: string): T | undefined;
  list(): readonly T[];
}

/** compareResourceVersion: -1, 0 or 1 for etcd revisions (decimal strings), 0 when either is not one. */
export function compareResourceVersion(a: string | undefined, b: string | undefined): number {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return 0;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export class AssumeCache<T extends KubeObject> {
  readonly #assumed = new Map<string, Assumed<T>>();

  constructor(
    private readonly source: AssumeSource<T>,
    private readonly keyOf: (obj: T) => string,
  ) {}

  /** get: the assumed version while the informer still holds the one it was made over, else the informer's. */
  get(key: string): T | undefined {
    const cur = this.source.get(key);
    const a = this.#assumed.get(key);
    if (!a) return cur;
    if (cur && cur.metadata.resourceVersion === a.baseRv) return a.obj;
    // The informer moved on (or the object is gone): the assumption is spent.
    this.#assumed.delete(key);
    return cur;
  }

  /** getAPIObj: the informer's version, ignoring assumptions (what the API server last said). */
  getAPIObj(key: string): T | undefined {
    return this.source.get(key);
  }

  /** list: every object, assumed versions in place of the informer's. */
  list(): T[] {
    return this.source.list().map((o) => this.get(this.keyOf(o)) ?? o);
  }

  /** assume lays obj over the informer's object of the same key; throws when there is none. */
  assume(obj: T): void {
    const key = this.keyOf(obj);
    const cur = this.source.get(key);
    if (!cur) throw new Error(`cannot assume ${key}: not found`);
    if (compareResourceVersion(obj.metadata.resourceVersion, cur.metadata.resourceVersion) < 0) {
      throw new Error(`cannot assume ${key}: its version is older than the cache's`);
    }
    this.#assumed.set(key, { obj, baseRv: cur.metadata.resourceVersion });
  }

  /** restore drops the assumption on key (no-op without one). */
  restore(key: string): void {
    this.#assumed.delete(key);
  }

  /** assumedCount: assumptions held now (tests, metrics). */
  get assumedCount(): number {
    return this.#assumed.size;
  }
}
