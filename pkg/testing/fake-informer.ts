// FakeInformer: the read side and the event handlers of a cache.Informer, fed by the test
// (add/update/delete, tombstones included) instead of a watch; handlers run synchronously, as
// an informer's do on delivery. For unit tests of controllers and of the kubelet.

import { keyOf } from "../api/keys.js";
import type { KubeObject } from "../api/meta.js";
import type { InformerView, Tombstone } from "../cache/informer.js";
import { type IndexFunc, Store } from "../cache/store.js";

export class FakeInformer<T extends KubeObject = KubeObject> implements InformerView<T> {
  readonly store = new Store<T>();
  readonly #add: Array<(obj: T) => void> = [];
  readonly #update: Array<(old: T, cur: T) => void> = [];
  readonly #delete: Array<(obj: T | Tombstone<T>) => void> = [];

  on(ev: "add", h: (obj: T) => void): this;
  on(ev: "update", h: (old: T, cur: T) => void): this;
  on(ev: "delete", h: (obj: T | Tombstone<T>) => void): this;
  on(
    ev: "add" | "update" | "delete",
    h: ((obj: T) => void) | ((old: T, cur: T) => void) | ((obj: T | Tombstone<T>) => void),
  ): this {
    if (ev === "add") {
      this.#add.push(h as (obj: T) => void);
      for (const obj of this.store.list()) (h as (obj: T) => void)(obj);
    } else if (ev === "update") this.#update.push(h as (old: T, cur: T) => void);
    else this.#delete.push(h as (obj: T | Tombstone<T>) => void);
    return this;
  }

  /** add stores obj (an update when its key is cached) and calls the handlers. */
  add(obj: T): void {
    const old = this.store.upsert(obj);
    if (old) for (const h of this.#update) h(old, obj);
    else for (const h of this.#add) h(obj);
  }

  update(obj: T): void {
    this.add(obj);
  }

  /** delete removes obj; with tombstone, the handlers get a relist's DeletedFinalStateUnknown. */
  delete(obj: T, o: { tombstone?: boolean } = {}): void {
    const key = keyOf(obj);
    const last = this.store.delete(key) ?? obj;
    const arg: T | Tombstone<T> = o.tombstone ? { tombstone: true, key, lastKnown: last } : last;
    for (const h of this.#delete) h(arg);
  }

  // The cache reads, straight from the store.
  readonly get = (key: string): T | undefined => this.store.get(key);
  readonly list = (): T[] => this.store.list();
  readonly byIndex = (name: string, value: string): T[] => this.store.byIndex(name, value);

  addIndex(name: string, fn: (obj: T) => string[]): void {
    this.store.addIndex(name, fn as IndexFunc<T>);
  }

  hasSynced(): boolean {
    return true;
  }

  async waitForSync(): Promise<void> {}
}
