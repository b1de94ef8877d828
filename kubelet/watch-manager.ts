// WatchBasedManager: the kubelet's ConfigMap and Secret managers (upstream pkg/kubelet/configmap,
// pkg/kubelet/secret on util/manager/watch_based_manager.go). A pod's referenced objects are
// registered when the pod is synced; each gets a single-object watch (fieldSelector
// metadata.name=<name>), shared by every pod that references it and stopped when the last one
// goes. get() reads that watch's cache, so a sync never issues a GET for a watched object. A
// change wakes the pods that reference the object, so mounted files and failed starts follow it.

import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceType } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";

/** How long get() waits for a new object's first list before the sync fails (and is retried). */
const SYNC_TIMEOUT_MS = 10_000;

interface Item<T extends KubeObject> {
  informer: Informer<T>;
  abort: AbortController;
  /** uids of the pods that reference the object. */
  pods: Set<string>;
  /** get() calls waiting on the watch now: it is kept until they return. */
  readers: number;
}

export interface WatchBasedManagerOptions<T extends KubeObject> {
  client: ApiClient;
  resource: ResourceType<T>;
  /** The names of the objects of `resource` a pod references (in its own namespace). */
  referencedNames: (pod: Pod) => Set<string>;
  /** Called with the uids of the pods referencing an object that changed. */
  onChange: (podUids: string[]) => void;
  log: Logger;
  clock: Clock;
}

export class WatchBasedManager<T extends KubeObject> {
  private readonly items = new Map<string, Item<T>>();
  /** pod uid → keys it references. */
  private readonly byPod = new Map<string, Set<string>>();
  private readonly abort = new AbortController();

  constructor(private readonly o: WatchBasedManagerOptions<T>) {}

  /** registerPod makes the manager watch what the pod references now (and stop what it no longer does). */
  registerPod(pod: Pod): void {
    const uid = pod.metadata.uid ?? "";
    const ns = pod.metadata.namespace ?? "default";
    const keys = new Set([...this.o.referencedNames(pod)].map((name) => `${ns}/${name}`));
    for (const key of keys) this.item(key).pods.add(uid);
    for (const key of this.byPod.get(uid) ?? []) if (!keys.has(key)) this.release(key, uid);
    this.byPod.set(uid, keys);
  }

  /** unregisterPod drops the pod's references; objects no pod references any more stop being watched. */
  unregisterPod(uid: string): void {
    for (const key of this.byPod.get(uid) ?? []) this.release(key, uid);
    this.byPod.delete(uid);
  }

  /**
   * get: the object from its watch (undefined when it does not exist). An object no registered
   * pod references is watched only for this call: its watch is released when get returns.
   */
  async get(namespace: string, name: string): Promise<T | undefined> {
    const key = `${namespace}/${name}`;
    if (this.abort.signal.aborted) throw this.syncError(key, "the manager is stopped");
    const item = this.item(key);
    item.readers++;
    try {
      if (!item.informer.hasSynced()) await this.waitForSync(key, item.informer);
      return item.informer.get(key);
    } finally {
      item.readers--;
      this.dropIfUnused(key, item);
    }
  }

  private async waitForSync(key: string, informer: Informer<T>): Promise<void> {
    const timeout = new AbortController();
    const cancel = this.o.clock.after(SYNC_TIMEOUT_MS, () => timeout.abort());
    try {
      await informer.waitForSync(AbortSignal.any([timeout.signal, this.abort.signal]));
    } catch (err) {
      const why = this.abort.signal.aborted ? "the manager was stopped" : "timed out";
      throw this.syncError(key, why, err);
    } finally {
      cancel();
    }
  }

  private syncError(key: string, why: string, cause?: unknown): Error {
    return new Error(`failed to sync ${this.o.resource.resource} cache for ${key}: ${why}`, { cause });
  }

  /** stop ends every watch. */
  stop(): void {
    this.abort.abort();
    this.items.clear();
    this.byPod.clear();
  }

  /** watched: keys of the objects watched now (tests). */
  watched(): string[] {
    return [...this.items.keys()];
  }

  private item(key: string): Item<T> {
    const it = this.items.get(key);
    if (it) return it;
    const [namespace = "", name = ""] = key.split("/");
    const informer = new Informer<T>(this.o.client, this.o.resource, {
      namespace,
      fieldSelector: `metadata.name=${name}`,
      log: this.o.log,
      clock: this.o.clock,
    });
    const abort = new AbortController();
    const item: Item<T> = { informer, abort, pods: new Set(), readers: 0 };
    // Changes after the first list wake the referencing pods; the first list is what get() waits for.
    const changed = () => {
      if (informer.hasSynced() && item.pods.size > 0) this.o.onChange([...item.pods]);
    };
    informer.on("add", changed).on("update", changed).on("delete", changed);
    informer
      .run(AbortSignal.any([abort.signal, this.abort.signal]))
      .catch((err: unknown) => this.o.log.warn({ err, key }, "watch stopped"));
    this.items.set(key, item);
    return item;
  }

  private release(key: string, uid: string): void {
    const it = this.items.get(key);
    if (!it) return;
    it.pods.delete(uid);
    this.dropIfUnused(key, it);
  }

  /** dropIfUnused stops the watch once no pod references it and no get() waits on it. */
  private dropIfUnused(key: string, it: Item<T>): void {
    if (it.pods.size > 0 || it.readers > 0 || this.items.get(key) !== it) return;
    it.abort.abort();
    this.items.delete(key);
  }
}
