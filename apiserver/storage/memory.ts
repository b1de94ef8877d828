// An in-memory storage with etcd's semantics (revisions, compare-and-swap writes, paging at a
// revision, prefix watches from a revision, compaction answering 410, expiring keys), so that
// the store, the registry and the watch cache can be unit-tested without an etcd. Not for
// serving: nothing is persisted and nothing is shared between processes.

import { alreadyExists, type QualifiedResource } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  checkPrefix,
  collectionPrefix,
  compactedError,
  encodeObject,
  objectKey,
  prefixEnd,
  tooLargeResourceVersion,
} from "./codec.js";
import {
  DELETE,
  type DeleteOptions,
  type GuaranteedUpdateOptions,
  type KeyEvent,
  type ListPage,
  type ListRequest,
  type ObjectRef,
  type PrefixWatcher,
  type PrefixWatchHandlers,
  type Storage,
  type Stored,
  type TryUpdate,
  type UpdateResult,
} from "./interfaces.js";
import { type Commit, deleteVia, guaranteedUpdateLoop, type KeyValue, listPaged, storedOf } from "./kv.js";
import { type KeyTransformers, NO_TRANSFORMERS, type Transformer } from "./value/transformer.js";

interface Version {
  modRev: number;
  /** undefined: the key was deleted at modRev. */
  value: Buffer | undefined;
  /** The expiry this version was written with (a later write without one keeps the key). */
  lease?: number | undefined;
}

export interface MemoryStorageOptions {
  /** Key prefix (default "/registry"). */
  prefix?: string;
  /**
   * Start at this revision, as an etcd that has been running (and compacted) for a while:
   * resourceVersions before it are gone. Default 1, a fresh etcd.
   */
  revision?: number;
  /** Encryption at rest, per resource (as EtcdStorage's); default: none. */
  transformers?: KeyTransformers | undefined;
}

export class MemoryStorage implements Storage {
  readonly prefix: string;
  /** The current revision; a fresh etcd starts at 1 too. */
  private rev = 1;
  /** Reads before this revision answer 410. */
  private compactRev = 0;
  /** Every key's versions since compaction, oldest first. */
  private readonly keys = new Map<string, Version[]>();
  /** Changes at or after compactRev, in revision order (what watches replay). */
  private events: KeyEvent[] = [];
  private readonly watchers = new Set<MemoryWatch>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private compactTimer: NodeJS.Timeout | undefined;
  private leaseSeq = 0;
  private closed = false;
  private readonly transformers: KeyTransformers;

  constructor(o: MemoryStorageOptions = {}) {
    this.prefix = o.prefix ?? "/registry";
    this.transformers = o.transformers ?? NO_TRANSFORMERS;
    checkPrefix(this.prefix);
    if (o.revision !== undefined && o.revision > 1) {
      this.rev = o.revision;
      this.compactRev = o.revision;
    }
  }

  key(ref: ObjectRef): string {
    return objectKey(this.prefix, ref);
  }

  listPrefix(r: QualifiedResource, namespace?: string): string {
    return collectionPrefix(this.prefix, r, namespace);
  }

  async currentRevision(): Promise<number> {
    return this.rev;
  }

  transformerFor(key: string): Transformer | undefined {
    return this.transformers.forKey(key);
  }

  async healthy(): Promise<boolean> {
    return !this.closed;
  }

  async get(ref: ObjectRef, revision?: number): Promise<Stored | undefined> {
    const key = this.key(ref);
    this.checkRevision(revision);
    const v = this.versionAt(key, revision || this.rev);
    return v ? storedOf(v, this.transformers.forKey(key)) : undefined;
  }

  async create(ref: ObjectRef, obj: KubeObject, opts: { ttlSeconds?: number | undefined } = {}): Promise<Stored> {
    const key = this.key(ref);
    const value = encodeObject(ref, obj, { key, transformer: this.transformers.forKey(key) });
    if (this.versionAt(key, this.rev)) throw alreadyExists(ref.r, ref.name);
    const rev = this.write(key, value, opts.ttlSeconds);
    obj.metadata.resourceVersion = String(rev);
    return { obj, rev };
  }

  guaranteedUpdate(ref: ObjectRef, tryUpdate: TryUpdate, opts: GuaranteedUpdateOptions = {}): Promise<UpdateResult> {
    const key = this.key(ref);
    const transformer = this.transformers.forKey(key);
    const commit: Commit = async (current, write) => {
      const now = this.versionAt(key, this.rev);
      if ((now?.modRev ?? 0) !== (current?.rev ?? 0))
        return { succeeded: false, current: now ? storedOf(now, transformer) : undefined };
      const rev = write === DELETE ? this.write(key, undefined) : this.write(key, write.value, write.ttlSeconds);
      return { succeeded: true, rev };
    };
    return guaranteedUpdateLoop(ref, { key, transformer }, tryUpdate, opts, () => this.get(ref), commit);
  }

  delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<UpdateResult> {
    return deleteVia((r, t, o) => this.guaranteedUpdate(r, t, o), ref, opts);
  }

  list(req: ListRequest): Promise<ListPage> {
    return listPaged(
      req,
      prefixEnd(Buffer.from(req.prefix)),
      async ({ start, end, limit, revision }) => {
        this.checkRevision(revision);
        const at = revision || this.rev;
        const kvs: KeyValue[] = [];
        let count = 0;
        for (const key of [...this.keys.keys()].sort()) {
          const k = Buffer.from(key);
          if (Buffer.compare(k, start) < 0 || Buffer.compare(k, end) >= 0) continue;
          const v = this.versionAt(key, at);
          if (!v) continue;
          count++;
          if (!limit || kvs.length < limit) kvs.push(v);
        }
        return { kvs, more: count > kvs.length, count, rev: at };
      },
      (key) => this.transformers.forKey(key),
    );
  }

  watchPrefix(prefix: string, fromRev: number, handlers: PrefixWatchHandlers, _log: Logger): PrefixWatcher {
    return new MemoryWatch(this, prefix, fromRev, handlers);
  }

  async createKeyIfAbsent(key: string, value: string): Promise<boolean> {
    if (this.versionAt(key, this.rev)) return false;
    this.write(key, Buffer.from(value));
    return true;
  }

  async deleteKey(key: string): Promise<boolean> {
    if (!this.versionAt(key, this.rev)) return false;
    this.write(key, undefined);
    return true;
  }

  async deleteKeyIfValue(key: string, value: string): Promise<boolean> {
    const v = this.versionAt(key, this.rev);
    if (!v || v.value.toString("utf8") !== value) return false;
    this.write(key, undefined);
    return true;
  }

  async rawExists(key: string): Promise<boolean> {
    return this.versionAt(key, this.rev) !== undefined;
  }

  async rawList(prefix: string): Promise<Array<{ key: string; value: string }>> {
    const out: Array<{ key: string; value: string }> = [];
    for (const key of [...this.keys.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      const v = this.versionAt(key, this.rev);
      if (v) out.push({ key, value: v.value.toString("utf8") });
    }
    return out;
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.compactRev) return;
    if (revision > this.rev) throw tooLargeResourceVersion(revision, this.rev);
    for (const [key, versions] of this.keys) {
      // Keep the state at `revision` (the newest version not after it) and everything later.
      let keepFrom = versions.findIndex((v) => v.modRev > revision) - 1;
      if (keepFrom < -1) keepFrom = versions.length - 1;
      const kept = versions.slice(Math.max(keepFrom, 0));
      if (kept[0] && kept[0].modRev <= revision && kept[0].value === undefined) kept.shift();
      if (kept.length === 0) this.keys.delete(key);
      else this.keys.set(key, kept);
    }
    this.events = this.events.filter((e) => e.rev >= revision);
    this.compactRev = revision;
  }

  startCompaction(intervalMs: number): void {
    if (intervalMs <= 0) return;
    if (this.compactTimer) clearInterval(this.compactTimer);
    let candidate = 0;
    this.compactTimer = setInterval(() => {
      const target = candidate;
      candidate = this.rev;
      if (target > 0) void this.compact(target);
    }, intervalMs);
    this.compactTimer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of [...this.watchers]) w.stop();
  }

  // ------------------------------------------------------------------ for MemoryWatch

  /** Starts delivering to w: the history after fromRev (or compaction), then every change. */
  attach(w: MemoryWatch, fromRev: number): void {
    if (fromRev + 1 < this.compactRev) {
      const rev = this.compactRev;
      queueMicrotask(() => w.compacted(rev));
      return;
    }
    this.watchers.add(w);
    let group: KeyEvent[] = [];
    for (const e of this.events) {
      if (e.rev <= fromRev) continue;
      if (group.length > 0 && (group[0] as KeyEvent).rev !== e.rev) {
        w.offer(group);
        group = [];
      }
      group.push(e);
    }
    if (group.length > 0) w.offer(group);
  }

  detach(w: MemoryWatch): void {
    this.watchers.delete(w);
  }

  get revision(): number {
    return this.rev;
  }

  // ------------------------------------------------------------------ internals

  private checkRevision(revision: number | undefined): void {
    if (!revision) return;
    if (revision < this.compactRev) throw compactedError(revision);
    if (revision > this.rev) throw tooLargeResourceVersion(revision, 0);
  }

  /** The live version of key at revision (undefined: absent then). */
  private versionAt(key: string, revision: number): (KeyValue & { lease?: number | undefined }) | undefined {
    const versions = this.keys.get(key);
    if (!versions) return undefined;
    for (let i = versions.length - 1; i >= 0; i--) {
      const v = versions[i] as Version;
      if (v.modRev > revision) continue;
      return v.value ? { key, value: v.value, modRev: v.modRev, lease: v.lease } : undefined;
    }
    return undefined;
  }

  /** One write at a new revision (value undefined: a delete), told to every watcher. */
  private write(key: string, value: Buffer | undefined, ttlSeconds?: number): number {
    const rev = ++this.rev;
    let lease: number | undefined;
    if (value && ttlSeconds) {
      const id = ++this.leaseSeq;
      lease = id;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.versionAt(key, this.rev)?.lease === id) this.write(key, undefined);
      }, ttlSeconds * 1000);
      // Not unref'd: as an etcd connection would, a pending expiry keeps the process up until close().
      this.timers.add(t);
    }
    let versions = this.keys.get(key);
    if (!versions) {
      versions = [];
      this.keys.set(key, versions);
    }
    versions.push({ modRev: rev, value, lease });
    const ev: KeyEvent = value ? { type: "Put", key, value, rev } : { type: "Delete", key, rev };
    this.events.push(ev);
    for (const w of this.watchers) w.offer([ev]);
    return rev;
  }
}

/**
 * A prefix watch on a MemoryStorage. Deliveries are asynchronous and in revision order, as
 * etcd's, but as soon as the writer yields (a microtask): with no I/O to wait for, a macrotask
 * delay would let a test run far ahead of its watch cache.
 */
class MemoryWatch implements PrefixWatcher {
  private active = false;
  private generation = 0;

  constructor(
    private readonly storage: MemoryStorage,
    private readonly prefix: string,
    private fromRev: number,
    private readonly handlers: PrefixWatchHandlers,
  ) {}

  start(): void {
    this.active = true;
    this.storage.attach(this, this.fromRev);
  }

  restart(fromRev: number): void {
    this.storage.detach(this);
    this.generation++;
    this.fromRev = fromRev;
    this.start();
  }

  requestProgress(): void {
    if (!this.active) return;
    const gen = this.generation;
    queueMicrotask(() => {
      if (this.active && gen === this.generation) this.handlers.onProgress(this.storage.revision);
    });
  }

  stop(): void {
    this.active = false;
    this.generation++;
    this.storage.detach(this);
  }

  /** Events of one revision. */
  offer(events: KeyEvent[]): void {
    const mine = events.filter((e) => e.key.startsWith(this.prefix));
    if (mine.length === 0) return;
    const rev = (mine[0] as KeyEvent).rev;
    const gen = this.generation;
    queueMicrotask(() => {
      if (this.active && gen === this.generation) this.handlers.onEvents(mine, rev);
    });
  }

  compacted(rev: number): void {
    if (!this.active) return;
    this.active = false;
    this.handlers.onCompacted(rev);
  }
}
