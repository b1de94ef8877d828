// Informer: a Reflector feeding an indexed Store, plus event handlers (client-go's
// SharedIndexInformer). The cache is eventually consistent with the API server; each handler
// sees events in order. Handlers must be quick: they should only enqueue keys on a WorkQueue
// (controllers are level-triggered; a sync reads the store, not the event).
//
// Objects returned by get/list/byIndex and passed to handlers are shared: READ-ONLY. Copy
// (structuredClone) before changing anything.

import type { KubeObject } from "../api/meta.js";
import type { ResourceType } from "../api/resources.js";
import type { ApiClient } from "../client/client.js";
import { type Clock, realClock } from "../runtime/clock.js";
import { type Logger, silentLogger } from "../runtime/log.js";
import { Reflector, type Tombstone } from "./reflector.js";
import { type IndexFunc, Store } from "./store.js";

export type { Tombstone } from "./reflector.js";
export { isTombstone, objectOf } from "./reflector.js";

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often (0/undefined: never). */
  resyncMs?: number;
  log?: Logger;
  clock?: Clock;
  /** Backoff of the underlying watch (see watchWithResume). */
  backoff?: { initialMs?: number; maxMs?: number };
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (old: T, cur: T) => void;
type DeleteHandler<T> = (obj: T | Tombstone<T>) => void;

/**
 * InformerView: what a component reads from an informer (handlers, the cache and its indexes,
 * sync state), the part a test can fake (pkg/testing FakeInformer).
 */
export interface InformerView<T extends KubeObject = KubeObject> {
  on(ev: "add", h: (obj: T) => void): unknown;
  on(ev: "update", h: (old: T, cur: T) => void): unknown;
  on(ev: "delete", h: (obj: T | Tombstone<T>) => void): unknown;
  get(key: string): T | undefined;
  list(): T[];
  byIndex(name: string, value: string): T[];
  addIndex(name: string, fn: (obj: T) => string[]): void;
  hasSynced(): boolean;
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export class Informer<T extends KubeObject = KubeObject> implements InformerView<T> {
  readonly store = new Store<T>();
  readonly resource: ResourceType<T>;
  readonly #client: ApiClient;
  readonly #opts: InformerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #addHandlers: AddHandler<T>[] = [];
  readonly #updateHandlers: UpdateHandler<T>[] = [];
  readonly #deleteHandlers: DeleteHandler<T>[] = [];
  readonly #syncWaiters: Array<() => void> = [];
  #synced = false;
  #running = false;
  #reflector: Reflector<T> | undefined;

  constructor(client: ApiClient, r: ResourceType<T>, o: InformerOptions = {}) {
    this.#client = client;
    this.resource = r;
    this.#opts = o;
    this.#clock = o.clock ?? realClock;
    this.#log = (o.log ?? silentLogger).child({
      informer: r.group ? `${r.resource}.${r.group}` : r.resource,
      ...(o.namespace ? { namespace: o.namespace } : {}),
    });
  }

  addIndex(name: string, fn: (obj: T) => string[]): void {
    this.store.addIndex(name, fn as IndexFunc<T>);
  }

  /**
   * Registers a handler. An "add" handler registered after objects are cached is first called
   * for each of them, so late subscribers (a second controller sharing this informer) see the
   * full state.
   */
  on(ev: "add", h: (obj: T) => void): this;
  on(ev: "update", h: (old: T, cur: T) => void): this;
  on(ev: "delete", h: (obj: T | Tombstone<T>) => void): this;
  on(ev: "add" | "update" | "delete", h: AddHandler<T> | UpdateHandler<T> | DeleteHandler<T>): this {
    if (ev === "add") {
      this.#addHandlers.push(h as AddHandler<T>);
      for (const obj of this.store.list()) this.#call(h as AddHandler<T>, "add", obj);
    } else if (ev === "update") this.#updateHandlers.push(h as UpdateHandler<T>);
    else this.#deleteHandlers.push(h as DeleteHandler<T>);
    return this;
  }

  /** Lists, watches and keeps the store current until signal aborts. May be called once. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`informer for ${this.resource.resource} is already running`);
    this.#running = true;
    const o = this.#opts;
    this.#reflector = new Reflector<T>(
      this.#client,
      this.resource,
      this.store,
      {
        onAdd: (obj) => this.#dispatchAdd(obj),
        onUpdate: (old, cur) => this.#dispatchUpdate(old, cur),
        onDelete: (obj) => this.#dispatchDelete(obj),
        onSynced: (rv) => this.#onSynced(rv),
      },
      {
        ...(o.namespace ? { namespace: o.namespace } : {}),
        ...(o.labelSelector ? { labelSelector: o.labelSelector } : {}),
        ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
        ...(o.backoff ? { backoff: o.backoff } : {}),
        clock: this.#clock,
        log: this.#log,
      },
    );
    const stopResync = o.resyncMs && o.resyncMs > 0 ? this.#startResync(o.resyncMs, signal) : undefined;
    try {
      await this.#reflector.run(signal);
    } finally {
      stopResync?.();
      // Wake waitForSync callers so they can notice the abort.
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  /** True once the first full list has been applied to the store. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves when synced; rejects if signal aborts first (or the informer stops unsynced). */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    const what = `informer for ${this.resource.resource}`;
    if (signal?.aborted) return Promise.reject(new Error(`${what}: aborted before sync`));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new Error(`${what}: aborted before sync`));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        if (this.#synced) resolve();
        else reject(new Error(`${what}: stopped before sync`));
      });
    });
  }

  /** Newest resourceVersion applied to the store. */
  get lastSyncResourceVersion(): string {
    return this.#reflector?.lastSyncResourceVersion ?? "";
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return this.store.list();
  }

  byIndex(name: string, value: string): T[] {
    return this.store.byIndex(name, value);
  }

  #onSynced(resourceVersion: string): void {
    if (!this.#synced) this.#log.debug({ resourceVersion, objects: this.store.size }, "synced");
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #startResync(ms: number, signal: AbortSignal): () => void {
    let cancel = () => {};
    const tick = () => {
      if (signal.aborted) return;
      for (const obj of this.store.list()) this.#dispatchUpdate(obj, obj);
      cancel = this.#clock.after(ms, tick);
    };
    cancel = this.#clock.after(ms, tick);
    return () => cancel();
  }

  #dispatchAdd(obj: T): void {
    for (const h of this.#addHandlers) this.#call(h, "add", obj);
  }

  #dispatchUpdate(old: T, cur: T): void {
    for (const h of this.#updateHandlers) this.#call(() => h(old, cur), "update", cur);
  }

  #dispatchDelete(obj: T | Tombstone<T>): void {
    for (const h of this.#deleteHandlers) this.#call(h, "delete", obj);
  }

  /** A throwing handler must not break the informer or the other handlers. */
  #call<A>(h: (a: A) => void, ev: string, arg: A): void {
    try {
      h(arg);
    } catch (err) {
      this.#log.error({ err, event: ev }, "informer event handler threw");
    }
  }
}
