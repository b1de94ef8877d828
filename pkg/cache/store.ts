// Store: client-go's thread_safe_store + Indexer. Objects by "namespace/name" key (keyOf), plus
// named secondary indexes (index name -> value -> keys). The built-in "namespace" index maps
// each object to its namespace ("" for cluster-scoped objects).
//
// Objects held here are shared with every reader in the process: they are READ-ONLY. Never
// mutate an object obtained from a store, informer or lister; copy it first
// (structuredClone(obj)) and send the copy to the API server.

import { keyOf } from "../api/keys.js";
import type { KubeObject } from "../api/meta.js";

export type IndexFunc<T> = (obj: T) => string[];

/** Recursively readonly view of an object: what a store hands out, as a type. */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export const NAMESPACE_INDEX = "namespace";

export const namespaceIndexFunc: IndexFunc<KubeObject> = (obj) => [obj.metadata.namespace ?? ""];

export const UID_INDEX = "uid";

/** Index by metadata.uid: find an object by uid (the kubelet's pods) without a map of one's own. */
export const uidIndexFunc: IndexFunc<KubeObject> = (obj) => (obj.metadata.uid ? [obj.metadata.uid] : []);

/** Index pods (or anything with spec.nodeName) by node; "" for unbound ones. */
export const nodeNameIndexFunc: IndexFunc<KubeObject> = (obj) => {
  const spec = obj.spec as { nodeName?: string } | undefined;
  return [spec?.nodeName ?? ""];
};

/** Index by the uid of every owner (ownerReferences), for "objects owned by X" lookups. */
export const ownerUidIndexFunc: IndexFunc<KubeObject> = (obj) =>
  (obj.metadata.ownerReferences ?? []).map((ref) => ref.uid);

/** Index by the uid of the controller owner only. */
export const controllerUidIndexFunc: IndexFunc<KubeObject> = (obj) => {
  const ref = obj.metadata.ownerReferences?.find((r) => r.controller);
  return ref ? [ref.uid] : [];
};

export interface ReplaceResult<T> {
  added: T[];
  /** [old, new] pairs whose resourceVersion changed. */
  updated: Array<[T, T]>;
  /** Objects that were stored and are absent from the new contents. */
  deleted: T[];
}

export class Store<T extends KubeObject = KubeObject> {
  readonly #items = new Map<string, T>();
  readonly #indexers = new Map<string, IndexFunc<T>>();
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor() {
    this.addIndex(NAMESPACE_INDEX, namespaceIndexFunc as IndexFunc<T>);
  }

  /** Adds a named index; existing objects are indexed at once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) throw new Error(`index "${name}" already exists`);
    this.#indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.#indices.set(name, index);
    for (const [key, obj] of this.#items) this.#indexOne(name, fn, index, key, obj);
  }

  hasIndex(name: string): boolean {
    return this.#indexers.has(name);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Objects whose index function returned `value` for index `name`. */
  byIndex(name: string, value: string): T[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`index "${name}" does not exist`);
    const keys = index.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.#items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Keys whose index function returned `value` for index `name`. */
  indexKeys(name: string, value: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`index "${name}" does not exist`);
    return [...(index.get(value) ?? [])];
  }

  /** Every value index `name` currently holds. */
  indexValues(name: string): string[] {
    const index = this.#indices.get(name);
    if (!index) throw new Error(`index "${name}" does not exist`);
    return [...index.keys()];
  }

  /** Inserts or replaces the object under its key; returns the previous one. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(key, old);
    this.#items.set(key, obj);
    this.#index(key, obj);
    return old;
  }

  /** Removes the object under key; returns it. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(key, old);
    this.#items.delete(key);
    return old;
  }

  /** Swaps the whole contents at once (a relist) and reports what changed. */
  replace(items: readonly T[]): ReplaceResult<T> {
    const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.upsert(obj);
      if (!old) result.added.push(obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) result.updated.push([old, obj]);
    }
    for (const key of [...this.#items.keys()]) {
      if (seen.has(key)) continue;
      const old = this.delete(key);
      if (old) result.deleted.push(old);
    }
    return result;
  }

  #index(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) this.#indexOne(name, fn, this.#indices.get(name)!, key, obj);
  }

  #indexOne(_name: string, fn: IndexFunc<T>, index: Map<string, Set<string>>, key: string, obj: T): void {
    for (const value of new Set(fn(obj))) {
      let keys = index.get(value);
      if (!keys) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  #unindex(key: string, obj: T): void {
    for (const [name, fn] of this.#indexers) {
      const index = this.#indices.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}
