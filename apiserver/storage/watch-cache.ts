// The watch cache (upstream: apiserver/pkg/storage/cacher). One storage watch over the registry
// prefix feeds, per resource, an in-memory copy of every object plus a bounded history of
// recent events. Watches start from any revision still in that history and are fanned out
// in-process with their selectors; lists with resourceVersion=0 are answered from memory.
// Objects handed out are shared: callers must not mutate them.

import { expired, type StatusError } from "#pkg/api/errors.js";
import type { KubeObject, WatchEvent } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import type { Logger } from "#pkg/runtime/log.js";
import { pollUntil } from "#pkg/runtime/wait.js";
import { decodeObject, fromStorage, tooLargeResourceVersion } from "./codec.js";
import type { KeyEvent, PrefixWatcher, Storage, Stored } from "./interfaces.js";

export type CacheEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface CacheEvent {
  type: CacheEventType;
  /** The new state; for DELETED the last state, stamped with the delete revision. */
  obj: KubeObject;
  /** The state before a MODIFIED event (to tell filter transitions apart). */
  prev?: KubeObject | undefined;
  rev: number;
}

export interface WatchCacheOptions {
  storage: Storage;
  resources: readonly ResourceInfo[];
  log: Logger;
  /** Events kept per resource at least (default 1000)... */
  historyCapacity?: number;
  /** ...and more while younger than this (default 75 s, as upstream's eventFreshDuration)... */
  historyRetentionMs?: number;
  /** ...but never more than this (default 100,000). */
  historyMax?: number;
  /** Bookmark period for watchers that allow them (default 10 s). */
  bookmarkIntervalMs?: number;
  /** Events a watcher may have queued before it is dropped with 410 (default 10,000). */
  watcherBufferSize?: number;
  /** How long a request may wait for the cache to reach a resourceVersion (default 3 s). */
  freshnessTimeoutMs?: number;
}

export interface CacheWatchOptions {
  namespace?: string | undefined;
  /** Selector test (labels/fields); undefined = everything in the namespace. */
  filter?: ((obj: KubeObject) => boolean) | undefined;
  /** Resume after this revision; undefined = start with the current state as ADDED events. */
  fromRev?: number | undefined;
  /** With fromRev undefined: end the initial events with the initial-events-end bookmark. */
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

interface HistoryEntry extends CacheEvent {
  time: number;
  namespace: string | undefined;
}

/** Upstream's annotation on the bookmark that ends sendInitialEvents. */
export const INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end";

class CacheWatcher {
  private readonly queue: WatchEvent[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private closed = false;
  private error: StatusError | undefined;
  /** Highest revision this watcher has been sent (events or bookmarks). */
  sentRev: number;

  constructor(
    readonly namespace: string | undefined,
    readonly filter: ((obj: KubeObject) => boolean) | undefined,
    /** Only events after this revision are for this watcher. */
    readonly startRev: number,
    readonly allowBookmarks: boolean,
    private readonly bufferSize: number,
  ) {
    this.sentRev = startRev;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  matches(obj: KubeObject): boolean {
    return !this.filter || this.filter(obj);
  }

  /** Adds without the overflow check (initial events). */
  pushInitial(ev: WatchEvent): void {
    this.queue.push(ev);
  }

  offer(ev: CacheEvent, ns: string | undefined): void {
    if (this.closed || ev.rev <= this.startRev) return;
    if (this.namespace !== undefined && ns !== this.namespace) return;
    let out: WatchEvent | undefined;
    if (ev.type === "MODIFIED") {
      const cur = this.matches(ev.obj);
      const old = ev.prev ? this.matches(ev.prev) : false;
      if (cur && old) out = { type: "MODIFIED", object: ev.obj };
      else if (cur) out = { type: "ADDED", object: ev.obj };
      else if (old && ev.prev)
        out = {
          type: "DELETED",
          object: { ...ev.prev, metadata: { ...ev.prev.metadata, resourceVersion: String(ev.rev) } },
        };
    } else if (this.matches(ev.obj)) {
      out = { type: ev.type, object: ev.obj };
    }
    if (!out) return;
    if (this.pending >= this.bufferSize) {
      this.fail(expired(`watch dropped: the client did not keep up (more than ${this.bufferSize} events queued)`));
      return;
    }
    this.queue.push(out);
    if (ev.rev > this.sentRev) this.sentRev = ev.rev;
    this.notify();
  }

  bookmark(obj: KubeObject, rev: number): void {
    if (this.closed || !this.allowBookmarks || this.pending > 0 || rev <= this.sentRev) return;
    this.sentRev = rev;
    this.queue.push({ type: "BOOKMARK", object: obj });
    this.notify();
  }

  fail(err: StatusError): void {
    if (this.closed) return;
    this.error = err;
    this.closed = true;
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *events(): AsyncGenerator<WatchEvent> {
    for (;;) {
      if (this.head < this.queue.length) {
        const ev = this.queue[this.head] as WatchEvent;
        this.queue[this.head] = undefined as unknown as WatchEvent;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        yield ev;
        continue;
      }
      if (this.error) throw this.error;
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

/** One resource's cached objects, history and watchers. */
export class ResourceCache {
  /** key ("ns/name" or "name") -> current object. */
  private readonly objects = new Map<string, Stored>();
  private readonly byNamespace = new Map<string, Map<string, Stored>>();
  private sortedKeys: string[] | undefined;
  /**
   * Each namespace's names, sorted, until one comes or goes: RBAC reads a namespace's
   * RoleBindings on every request, and sorting them each time cost more than the walk itself.
   */
  private readonly sortedNames = new Map<string, string[]>();
  private history: HistoryEntry[] = [];
  private historyHead = 0;
  /** Every event after this revision is in the history. */
  private startRev = 0;
  private readonly watchers = new Set<CacheWatcher>();

  constructor(
    readonly r: ResourceInfo,
    private readonly owner: WatchCache,
    private readonly o: Required<
      Pick<
        WatchCacheOptions,
        "historyCapacity" | "historyRetentionMs" | "historyMax" | "watcherBufferSize" | "bookmarkIntervalMs"
      >
    >,
  ) {}

  get size(): number {
    return this.objects.size;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The oldest revision a watch may resume from. */
  get oldestResumableRev(): number {
    return this.startRev;
  }

  get(namespace: string | undefined, name: string): Stored | undefined {
    return this.objects.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Current objects (sorted by key, as an etcd range would be) matching the filter. */
  list(namespace: string | undefined, filter?: (obj: KubeObject) => boolean): KubeObject[] {
    const out: KubeObject[] = [];
    if (namespace !== undefined && this.r.namespaced) {
      const m = this.byNamespace.get(namespace);
      if (!m) return out;
      let names = this.sortedNames.get(namespace);
      if (!names) {
        names = [...m.keys()].sort();
        this.sortedNames.set(namespace, names);
      }
      for (const n of names) {
        const s = m.get(n) as Stored;
        if (!filter || filter(s.obj)) out.push(s.obj);
      }
      return out;
    }
    this.sortedKeys ??= [...this.objects.keys()].sort();
    for (const k of this.sortedKeys) {
      const s = this.objects.get(k) as Stored;
      if (!filter || filter(s.obj)) out.push(s.obj);
    }
    return out;
  }

  /** Replaces the whole state after a (re)list at rev; existing watchers are dropped with 410. */
  reset(items: Map<string, Stored>, rev: number): void {
    this.objects.clear();
    this.byNamespace.clear();
    this.sortedNames.clear();
    this.sortedKeys = undefined;
    for (const [k, s] of items) this.put(k, s);
    this.history = [];
    this.historyHead = 0;
    this.startRev = rev;
    for (const w of this.watchers)
      w.fail(expired(`too old resource version: the watch cache of ${this.r.resource} was re-listed at ${rev}`));
    this.watchers.clear();
  }

  /** Applies one etcd event (already decoded) and fans it out. */
  apply(
    type: "Put" | "Delete",
    key: string,
    namespace: string | undefined,
    value: Buffer | undefined,
    rev: number,
  ): void {
    const prev = this.objects.get(key);
    if (prev && prev.rev >= rev) return; // duplicate after a reconnect
    let ev: CacheEvent;
    if (type === "Put" && value) {
      const obj = decodeObject(value, rev);
      this.put(key, { obj, rev });
      ev = prev ? { type: "MODIFIED", obj, prev: prev.obj, rev } : { type: "ADDED", obj, rev };
    } else {
      if (!prev) return;
      this.remove(key, namespace);
      const obj = { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rev) } };
      ev = { type: "DELETED", obj, rev };
    }
    this.record({ ...ev, time: Date.now(), namespace });
    for (const w of this.watchers) w.offer(ev, namespace);
  }

  /** Sends a bookmark at rev to idle watchers that asked for bookmarks. */
  bookmarkAll(rev: number): void {
    if (this.watchers.size === 0) return;
    const obj = this.bookmarkObject(rev);
    for (const w of this.watchers) w.bookmark(obj, rev);
  }

  get wantsBookmarks(): boolean {
    for (const w of this.watchers) if (w.allowBookmarks) return true;
    return false;
  }

  bookmarkObject(rev: number, annotations?: Record<string, string>): KubeObject {
    const metadata: KubeObject["metadata"] = { resourceVersion: String(rev) };
    if (annotations) metadata.annotations = annotations;
    return { apiVersion: apiVersionOf(this.r), kind: this.r.kind, metadata };
  }

  /**
   * A watch as an async iterable. The first next() may throw 410 Expired (resume point no longer
   * in the history) or 504 (a resourceVersion the cache has not reached within the timeout).
   */
  watch(o: CacheWatchOptions): AsyncIterable<WatchEvent> {
    return this.watchGen(o);
  }

  private async *watchGen(o: CacheWatchOptions): AsyncGenerator<WatchEvent> {
    if (o.signal?.aborted) return;
    if (o.fromRev !== undefined) {
      if (o.fromRev < this.startRev) throw expired(`too old resource version: ${o.fromRev} (${this.startRev})`);
      if (o.fromRev > this.owner.rev) await this.owner.waitFresh(o.fromRev, o.signal);
      // The history may have moved on while we waited.
      if (o.fromRev < this.startRev) throw expired(`too old resource version: ${o.fromRev} (${this.startRev})`);
    }
    const startRev = o.fromRev ?? this.owner.rev;
    const w = new CacheWatcher(o.namespace, o.filter, startRev, o.allowBookmarks ?? false, this.o.watcherBufferSize);
    // Registration and replay/snapshot happen in one synchronous step, so no event falls between.
    if (o.fromRev !== undefined) {
      for (let i = this.firstAfter(o.fromRev); i < this.history.length; i++) {
        const h = this.history[i] as HistoryEntry;
        w.offer(h, h.namespace);
      }
    } else {
      for (const obj of this.list(this.r.namespaced ? o.namespace : undefined, o.filter))
        w.pushInitial({ type: "ADDED", object: obj });
      if (o.sendInitialEvents && o.allowBookmarks)
        w.pushInitial({
          type: "BOOKMARK",
          object: this.bookmarkObject(startRev, { [INITIAL_EVENTS_END_ANNOTATION]: "true" }),
        });
    }
    this.watchers.add(w);
    const onAbort = () => w.close();
    o.signal?.addEventListener("abort", onAbort, { once: true });
    const timer = o.timeoutMs !== undefined ? setTimeout(() => w.close(), o.timeoutMs) : undefined;
    try {
      yield* w.events();
    } finally {
      if (timer) clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      this.watchers.delete(w);
      w.close();
    }
  }

  /** Drops every watcher (registry shutdown). */
  closeWatchers(): void {
    for (const w of this.watchers) w.close();
    this.watchers.clear();
  }

  private put(key: string, s: Stored): void {
    if (!this.objects.has(key)) this.sortedKeys = undefined;
    this.objects.set(key, s);
    const ns = s.obj.metadata.namespace;
    if (this.r.namespaced && ns) {
      let m = this.byNamespace.get(ns);
      if (!m) {
        m = new Map();
        this.byNamespace.set(ns, m);
      }
      const name = s.obj.metadata.name ?? "";
      if (!m.has(name)) this.sortedNames.delete(ns);
      m.set(name, s);
    }
  }

  private remove(key: string, namespace: string | undefined): void {
    this.objects.delete(key);
    this.sortedKeys = undefined;
    if (namespace !== undefined) {
      const m = this.byNamespace.get(namespace);
      this.sortedNames.delete(namespace);
      if (m) {
        m.delete(key.slice(namespace.length + 1));
        if (m.size === 0) this.byNamespace.delete(namespace);
      }
    }
  }

  private record(e: HistoryEntry): void {
    this.history.push(e);
    const now = e.time;
    const { historyCapacity, historyRetentionMs, historyMax } = this.o;
    for (;;) {
      const size = this.history.length - this.historyHead;
      const oldest = this.history[this.historyHead];
      if (!oldest || size <= historyCapacity) break;
      if (size <= historyMax && now - oldest.time < historyRetentionMs) break;
      this.startRev = oldest.rev;
      this.history[this.historyHead] = undefined as unknown as HistoryEntry;
      this.historyHead++;
    }
    if (this.historyHead > 1024 && this.historyHead * 2 > this.history.length) {
      this.history = this.history.slice(this.historyHead);
      this.historyHead = 0;
    }
  }

  /** Index of the first history entry with rev > rev. */
  private firstAfter(rev: number): number {
    let lo = this.historyHead;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.history[mid] as HistoryEntry).rev <= rev) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The watch cache of every resource under one registry prefix. */
export class WatchCache {
  private readonly storage: Storage;
  private readonly log: Logger;
  private readonly caches = new Map<string, ResourceCache>();
  private readonly freshnessTimeoutMs: number;
  private readonly bookmarkIntervalMs: number;
  private readonly keyPrefix: string;
  private watch: PrefixWatcher | undefined;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private waiters: Array<{ rev: number; resolve: () => void }> = [];
  private relisting = false;
  private readonly stopping = new AbortController();
  /** Every event up to this revision has been applied. */
  rev = 0;

  constructor(o: WatchCacheOptions) {
    this.storage = o.storage;
    this.log = o.log.child({ module: "watch-cache" });
    this.freshnessTimeoutMs = o.freshnessTimeoutMs ?? 3000;
    this.bookmarkIntervalMs = o.bookmarkIntervalMs ?? 10_000;
    this.keyPrefix = `${o.storage.prefix}/`;
    const settings = {
      historyCapacity: o.historyCapacity ?? 1000,
      historyRetentionMs: o.historyRetentionMs ?? 75_000,
      historyMax: o.historyMax ?? 100_000,
      watcherBufferSize: o.watcherBufferSize ?? 10_000,
      bookmarkIntervalMs: this.bookmarkIntervalMs,
    };
    for (const r of o.resources) {
      if (this.caches.has(r.resource)) throw new Error(`watch cache: two resources stored as "${r.resource}"`);
      this.caches.set(r.resource, new ResourceCache(r, this, settings));
    }
  }

  /** Lists everything under the prefix at one revision, then watches from there. */
  async start(): Promise<void> {
    const rev = await this.relist();
    this.watch = this.storage.watchPrefix(
      this.keyPrefix,
      rev,
      {
        onEvents: (events, r) => this.onEvents(events, r),
        onProgress: (r) => this.advance(r),
        onCompacted: () => void this.recoverFromCompaction(),
      },
      this.log,
    );
    this.watch.start();
    this.bookmarkTimer = setInterval(() => this.tickBookmarks(), this.bookmarkIntervalMs);
    this.bookmarkTimer.unref();
    this.log.info({ rev, resources: this.caches.size }, "watch cache started");
  }

  stop(): void {
    this.stopping.abort();
    this.watch?.stop();
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const c of this.caches.values()) c.closeWatchers();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  for(r: Pick<ResourceInfo, "resource">): ResourceCache {
    const c = this.caches.get(r.resource);
    if (!c) throw new Error(`watch cache: no cache for resource "${r.resource}"`);
    return c;
  }

  /** Waits until the cache has applied every event up to rev; 504 after the freshness timeout. */
  async waitFresh(rev: number, signal?: AbortSignal): Promise<void> {
    if (this.rev >= rev) return;
    const deadline = this.freshnessTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const entry = { rev, resolve: () => finish() };
      let poll: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => finish(tooLargeResourceVersion(rev, this.rev)), deadline);
      const onAbort = () => finish();
      const finish = (err?: StatusError) => {
        clearTimeout(timer);
        if (poll) clearInterval(poll);
        signal?.removeEventListener("abort", onAbort);
        this.waiters = this.waiters.filter((w) => w !== entry);
        if (err) reject(err);
        else resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(entry);
      this.watch?.requestProgress();
      // A progress request may be coalesced with one answered just before rev existed: ask again.
      poll = setInterval(() => this.watch?.requestProgress(), 100);
    });
  }

  /** A consistent read point: etcd's current revision, once the cache has caught up with it. */
  async sync(signal?: AbortSignal): Promise<number> {
    const rev = await this.storage.currentRevision();
    await this.waitFresh(rev, signal);
    return Math.max(rev, this.rev);
  }

  private tickBookmarks(): void {
    let wanted = false;
    for (const c of this.caches.values()) {
      if (c.wantsBookmarks) {
        wanted = true;
        c.bookmarkAll(this.rev);
      }
    }
    // Keep this.rev moving when nothing changes, so the next bookmarks carry a current revision.
    if (wanted) this.watch?.requestProgress();
  }

  private async relist(): Promise<number> {
    const perResource = new Map<string, Map<string, Stored>>();
    for (const name of this.caches.keys()) perResource.set(name, new Map());
    let rev = 0;
    let token: string | undefined;
    do {
      const page = await this.storage.list({
        keyFilter: (key) => this.locate(key) !== undefined,
        prefix: this.keyPrefix,
        limit: 5000,
        continue: token,
        revision: rev || undefined,
      });
      rev = page.rev;
      token = page.continue;
      for (const s of page.items) {
        const where = s.key !== undefined ? this.locate(s.key) : undefined;
        if (!where) continue;
        perResource.get(where.cache.r.resource)?.set(where.objKey, s);
      }
    } while (token);
    for (const [name, items] of perResource) this.caches.get(name)?.reset(items, rev);
    this.advance(rev);
    return rev;
  }

  /** Splits `{prefix}/{resource}/[{namespace}/]{name}` into the cache and the object key. */
  private locate(key: string): { cache: ResourceCache; objKey: string; namespace: string | undefined } | undefined {
    if (!key.startsWith(this.keyPrefix)) return undefined;
    const rest = key.slice(this.keyPrefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) return undefined;
    const cache = this.caches.get(rest.slice(0, slash));
    if (!cache) return undefined; // allocation bookkeeping and other non-object keys
    const objKey = rest.slice(slash + 1);
    let namespace: string | undefined;
    if (cache.r.namespaced) {
      const s = objKey.indexOf("/");
      if (s < 0) return undefined;
      namespace = objKey.slice(0, s);
    }
    return { cache, objKey, namespace };
  }

  private onEvents(events: KeyEvent[], rev: number): void {
    for (const ev of events) {
      const where = this.locate(ev.key);
      if (!where) continue;
      const { cache, objKey, namespace } = where;
      try {
        // Decrypted here, where a failure is logged and the event skipped, as an undecodable one is.
        const value = ev.value && fromStorage(ev.key, ev.value, this.storage.transformerFor(ev.key)).data;
        cache.apply(ev.type, objKey, namespace, value, ev.rev);
      } catch (err) {
        this.log.error({ err, key: ev.key }, "watch cache: cannot apply etcd event");
      }
    }
    this.advance(rev);
  }

  private advance(rev: number): void {
    if (rev <= this.rev) return;
    this.rev = rev;
    if (this.waiters.length === 0) return;
    for (const w of [...this.waiters]) if (w.rev <= rev) w.resolve();
  }

  /**
   * Re-lists everything and restarts the etcd watch from there. Current watchers end with 410
   * (their resume points are gone) and re-list. Runs by itself when the watch's start revision
   * was compacted away (the watch was disconnected for longer than the compaction interval).
   */
  resync(): Promise<void> {
    return this.recoverFromCompaction();
  }

  private async recoverFromCompaction(): Promise<void> {
    if (this.relisting) return;
    this.relisting = true;
    try {
      // Retried every second until it succeeds or the cache is stopped (stop() ends the wait too).
      await pollUntil(
        async () => {
          try {
            this.watch?.restart(await this.relist());
            return true;
          } catch (err) {
            this.log.error({ err }, "watch cache: re-list after compaction failed; retrying");
            return false;
          }
        },
        1000,
        { signal: this.stopping.signal, immediate: true },
      );
    } finally {
      this.relisting = false;
    }
  }
}
