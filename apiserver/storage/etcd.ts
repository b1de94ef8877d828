// The etcd half of the storage layer (upstream: apiserver/pkg/storage/etcd3/store.go).
// Keys are `{prefix}/{resource}/{namespace}/{name}` (cluster-scoped: `{prefix}/{resource}/{name}`),
// values are the object's JSON without metadata.resourceVersion; on the way out
// resourceVersion is set to the key's mod_revision. Every write is one etcd transaction that
// compares create_revision (create) or mod_revision (update, delete), so no update is ever lost.

import {
  Etcd3,
  type IKeyValue,
  type IRangeResponse,
  type IRequestOp,
  type ITxnRequest,
  type ITxnResponse,
} from "etcd3";
import {
  alreadyExists,
  conflict,
  expired,
  internalError,
  notFound,
  type QualifiedResource,
  StatusError,
  tooLarge,
} from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Logger } from "#pkg/runtime/log.js";

/** etcd's default --max-request-bytes; upstream's per-object limit. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

export const CONFLICT_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

/** Which object a storage call is about: enough to build its key and upstream error messages. */
export interface ObjectRef {
  r: QualifiedResource;
  namespace?: string | undefined;
  name: string;
}

/** An object as read from etcd: its decoded body (resourceVersion set) and mod_revision. */
export interface Stored {
  obj: KubeObject;
  rev: number;
  /** The etcd key (set on list results). */
  key?: string;
  /** The stored bytes (set on reads from etcd): an update encoding to the same bytes is a no-op. */
  raw?: Buffer;
}

/** Returned by a guaranteedUpdate callback to delete the object in the same transaction. */
export const DELETE = Symbol("delete");
/** Returned by a guaranteedUpdate callback to leave the object as it is (no write). */
export const NO_CHANGE = Symbol("no-change");

export type TryUpdate = (
  current: Stored | undefined,
) => KubeObject | typeof DELETE | typeof NO_CHANGE | Promise<KubeObject | typeof DELETE | typeof NO_CHANGE>;

export interface GuaranteedUpdateOptions {
  /** Call tryUpdate(undefined) when the key is missing (create-on-update); default: 404. */
  allowCreate?: boolean;
  /** A recent copy to try first, saving a read; if stale the transaction fails and we re-read. */
  suggestion?: Stored | undefined;
  /** Conflicts tolerated before giving up (with a 409). */
  maxRetries?: number;
  /** Run tryUpdate on a fresh read and return its result without writing (?dryRun=All). */
  dryRun?: boolean;
  /** Attach the written key to a lease: etcd deletes it after about this many seconds (events). */
  ttlSeconds?: number | undefined;
}

export interface UpdateResult {
  /** The object now stored (or, when deleted, the last state with the delete revision). */
  obj: KubeObject;
  rev: number;
  created: boolean;
  deleted: boolean;
  /** False when tryUpdate changed nothing and nothing was written. */
  written: boolean;
}

export interface ListPage {
  items: Stored[];
  /** The revision the list was read at. */
  rev: number;
  /** Opaque token for the next page, when there are more keys. */
  continue?: string;
  /** Keys left after this page (only when no filter was applied). */
  remainingItemCount?: number;
}

export interface ListRequest {
  /** Key prefix ending in "/" (see EtcdStorage.listPrefix). */
  prefix: string;
  limit?: number | undefined;
  continue?: string | undefined;
  /** Read at this revision (0 or absent: the latest). */
  revision?: number | undefined;
  filter?: ((obj: KubeObject) => boolean) | undefined;
  /** Skips keys before decoding (e.g. non-object bookkeeping keys under the prefix). */
  keyFilter?: ((key: string) => boolean) | undefined;
}

interface ContinueToken {
  v: "meta.k8s.io/v1";
  rv: number;
  start: string;
}

const CONTINUE_TOO_OLD =
  "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";

export function encodeContinue(rev: number, startKeySuffix: string): string {
  const token: ContinueToken = { v: "meta.k8s.io/v1", rv: rev, start: startKeySuffix };
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

export function decodeContinue(token: string): { rev: number; start: string } {
  let parsed: Partial<ContinueToken>;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as Partial<ContinueToken>;
  } catch {
    throw new StatusError(400, "BadRequest", "continue key is not valid: illegal base64 data or JSON");
  }
  if (parsed.v !== "meta.k8s.io/v1")
    throw new StatusError(400, "BadRequest", "continue key is not valid: server does not recognize this encoding");
  if (typeof parsed.rv !== "number" || parsed.rv <= 0 || typeof parsed.start !== "string")
    throw new StatusError(400, "BadRequest", "continue key is not valid: incorrect encoded start resourceVersion");
  // A relative key must not escape the list's prefix.
  if (parsed.start.startsWith("/") || parsed.start.split("/").includes(".."))
    throw new StatusError(400, "BadRequest", "continue key is not valid: the start key is not a relative path");
  return { rev: parsed.rv, start: parsed.start };
}

/** The smallest key greater than every key starting with prefix (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

export function isCompactedError(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

export function isFutureRevisionError(err: unknown): boolean {
  return err instanceof Error && /required revision is a future revision/.test(err.message);
}

export function tooLargeResourceVersion(rv: number, current: number): StatusError {
  return new StatusError(504, "Timeout", `Too large resource version: ${rv}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

/** Serialises an object for etcd: JSON without resourceVersion; 413 above the etcd limit. */
export function encodeObject(ref: ObjectRef, obj: KubeObject): Buffer {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  const buf = Buffer.from(JSON.stringify({ ...obj, metadata: meta }));
  if (buf.length > MAX_OBJECT_BYTES) {
    const what = ref.r.group ? `${ref.r.resource}.${ref.r.group}` : ref.r.resource;
    throw tooLarge(
      `${what} "${ref.name}" is too large: ${buf.length} bytes exceeds the ${MAX_OBJECT_BYTES}-byte limit (etcdserver: request is too large)`,
    );
  }
  return buf;
}

/** Decodes a stored value and stamps resourceVersion with the given revision. */
export function decodeObject(value: Buffer, rev: number): KubeObject {
  const obj = JSON.parse(value.toString("utf8")) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(rev);
  return obj;
}

/** Structural equality of JSON values (object key order ignored, array order significant). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let count = 0;
  for (const k in ao) {
    if (ao[k] === undefined) continue;
    count++;
    if (!jsonEqual(ao[k], bo[k])) return false;
  }
  for (const k in bo) if (bo[k] !== undefined) count--;
  return count === 0;
}

function decodeKv(kv: IKeyValue): Stored {
  const rev = Number(kv.mod_revision);
  return { obj: decodeObject(kv.value, rev), rev, raw: kv.value };
}

export interface EtcdStorageOptions {
  endpoints: string[];
  /** Key prefix, e.g. "/registry" (no trailing slash). */
  prefix: string;
  log: Logger;
}

export class EtcdStorage {
  readonly client: Etcd3;
  readonly prefix: string;
  private readonly log: Logger;
  private compactTimer: NodeJS.Timeout | undefined;
  private lease: { id: Promise<string>; granted: number; ttl: number } | undefined;
  private lastCompactCandidate = 0;

  constructor(o: EtcdStorageOptions) {
    if (o.prefix === "" || o.prefix.endsWith("/") || !o.prefix.startsWith("/"))
      throw new Error(`etcd prefix must start with "/" and not end with one: ${JSON.stringify(o.prefix)}`);
    this.prefix = o.prefix;
    this.log = o.log;
    this.client = new Etcd3({
      hosts: o.endpoints,
      // Large unpaged ranges exceed grpc-js's 4 MiB default (PERF.md B1).
      grpcOptions: { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 },
    });
  }

  /** `{prefix}/{resource}/{namespace}/{name}`, or without the namespace for cluster-scoped objects. */
  key(ref: ObjectRef): string {
    return ref.namespace
      ? `${this.prefix}/${ref.r.resource}/${ref.namespace}/${ref.name}`
      : `${this.prefix}/${ref.r.resource}/${ref.name}`;
  }

  /** Prefix of a collection: all namespaces, or one namespace. Always ends in "/". */
  listPrefix(r: QualifiedResource, namespace?: string): string {
    return namespace ? `${this.prefix}/${r.resource}/${namespace}/` : `${this.prefix}/${r.resource}/`;
  }

  /** The current etcd revision (the header of a one-key read: O(1) however much is stored). */
  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: Buffer.from(`${this.prefix}/`), count_only: true });
    return Number(res.header.revision);
  }

  async healthy(): Promise<boolean> {
    try {
      await this.client.kv.range({ key: Buffer.from(`${this.prefix}/health`), count_only: true });
      return true;
    } catch {
      return false;
    }
  }

  async get(ref: ObjectRef, revision?: number): Promise<Stored | undefined> {
    const key = Buffer.from(this.key(ref));
    let res: IRangeResponse;
    try {
      res = await this.client.kv.range(revision ? { key, revision } : { key });
    } catch (err) {
      throw this.translate(err, revision);
    }
    const kv = res.kvs[0];
    return kv ? decodeKv(kv) : undefined;
  }

  /** Stores a new object; 409 AlreadyExists when the key exists. One transaction. */
  async create(ref: ObjectRef, obj: KubeObject, opts: { ttlSeconds?: number | undefined } = {}): Promise<Stored> {
    const key = Buffer.from(this.key(ref));
    const value = encodeObject(ref, obj);
    const lease = opts.ttlSeconds ? await this.leaseFor(opts.ttlSeconds) : undefined;
    const res = await this.txn({
      compare: [{ key, target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: lease ? { key, value, lease } : { key, value } }],
      failure: [],
    });
    if (!res.succeeded) throw alreadyExists(ref.r, ref.name);
    const rev = Number(res.header.revision);
    obj.metadata.resourceVersion = String(rev);
    return { obj, rev };
  }

  /**
   * Read-modify-write with optimistic concurrency (upstream GuaranteedUpdate): tryUpdate sees
   * the current object and returns the new one (or DELETE / NO_CHANGE). When another writer got
   * there first, the transaction's failure branch returns the fresh value and tryUpdate runs
   * again. tryUpdate throws to abort (e.g. a 409 for a caller's stale resourceVersion).
   */
  async guaranteedUpdate(
    ref: ObjectRef,
    tryUpdate: TryUpdate,
    opts: GuaranteedUpdateOptions = {},
  ): Promise<UpdateResult> {
    const key = Buffer.from(this.key(ref));
    const maxRetries = opts.maxRetries ?? 100;
    let fromSuggestion = opts.suggestion !== undefined;
    let current: Stored | undefined = opts.suggestion ?? (await this.get(ref));
    for (let attempt = 0; ; attempt++) {
      if (!current && !opts.allowCreate) throw notFound(ref.r, ref.name);
      let next: KubeObject | typeof DELETE | typeof NO_CHANGE;
      try {
        next = await tryUpdate(current);
      } catch (err) {
        // A cached copy may be stale: confirm a precondition failure against etcd before failing.
        if (fromSuggestion && err instanceof StatusError && err.code === 409) {
          fromSuggestion = false;
          current = await this.get(ref);
          continue;
        }
        throw err;
      }
      if (next === NO_CHANGE) {
        if (!current) throw notFound(ref.r, ref.name);
        if (fromSuggestion) {
          // "Nothing to do" decided on a cached copy might be wrong: decide again on a fresh read.
          fromSuggestion = false;
          current = await this.get(ref);
          continue;
        }
        return { obj: current.obj, rev: current.rev, created: false, deleted: false, written: false };
      }
      if (opts.dryRun) {
        if (fromSuggestion) {
          fromSuggestion = false;
          current = await this.get(ref);
          continue;
        }
        if (next === DELETE)
          return {
            obj: (current as Stored).obj,
            rev: (current as Stored).rev,
            created: false,
            deleted: true,
            written: false,
          };
        encodeObject(ref, next); // the size check still applies
        return { obj: next, rev: current?.rev ?? 0, created: !current, deleted: false, written: false };
      }
      let success: IRequestOp[];
      let value: Buffer | undefined;
      if (next === DELETE) {
        if (!current) throw notFound(ref.r, ref.name);
        success = [{ request_delete_range: { key } }];
      } else {
        value = encodeObject(ref, next);
        // Same content as stored: nothing to write (upstream skips no-op updates too). Bytes first,
        // then structurally (a client may send the same object with its keys in another order).
        if (current && (current.raw?.equals(value) || jsonEqual(next, current.obj))) {
          if (fromSuggestion) {
            fromSuggestion = false;
            current = await this.get(ref);
            continue;
          }
          return { obj: current.obj, rev: current.rev, created: false, deleted: false, written: false };
        }
        const lease = opts.ttlSeconds ? await this.leaseFor(opts.ttlSeconds) : undefined;
        success = [{ request_put: lease ? { key, value, lease } : { key, value } }];
      }
      const res = await this.txn({
        compare: current
          ? [{ key, target: "Mod", result: "Equal", mod_revision: current.rev }]
          : [{ key, target: "Create", result: "Equal", create_revision: 0 }],
        success,
        failure: [{ request_range: { key } }],
      });
      if (res.succeeded) {
        const rev = Number(res.header.revision);
        if (next === DELETE) {
          const last = (current as Stored).obj;
          last.metadata.resourceVersion = String(rev);
          return { obj: last, rev, created: false, deleted: true, written: true };
        }
        next.metadata.resourceVersion = String(rev);
        return { obj: next, rev, created: !current, deleted: false, written: true };
      }
      if (attempt >= maxRetries) throw conflict(ref.r, ref.name, CONFLICT_MESSAGE);
      fromSuggestion = false;
      const kv = res.responses[0]?.response_range?.kvs[0];
      current = kv ? decodeKv(kv) : undefined;
    }
  }

  /**
   * One page of a collection at a consistent revision. With a filter, keeps reading until the
   * page is full or the range ends, so a selective filter still returns `limit` items.
   */
  async list(req: ListRequest): Promise<ListPage> {
    const prefix = Buffer.from(req.prefix);
    const end = prefixEnd(prefix);
    let start = prefix;
    let revision = req.revision ?? 0;
    if (req.continue) {
      const token = decodeContinue(req.continue);
      start = Buffer.from(req.prefix + token.start);
      revision = token.rev;
    }
    const limit = req.limit && req.limit > 0 ? req.limit : 0;
    const items: Stored[] = [];
    // Without a filter one range answers; with one, pages grow (upstream doubles up to 10000).
    let pageSize = limit;
    for (;;) {
      let res: IRangeResponse;
      try {
        res = await this.client.kv.range({
          key: start,
          range_end: end,
          ...(pageSize ? { limit: pageSize } : {}),
          ...(revision ? { revision } : {}),
        });
      } catch (err) {
        if (req.continue && isCompactedError(err)) throw expired(CONTINUE_TOO_OLD);
        throw this.translate(err, revision);
      }
      if (!revision) revision = Number(res.header.revision);
      const kvs = res.kvs;
      for (let i = 0; i < kvs.length; i++) {
        const kv = kvs[i] as IKeyValue;
        const key = kv.key.toString("utf8");
        if (req.keyFilter && !req.keyFilter(key)) continue;
        const stored = decodeKv(kv);
        stored.key = key;
        if (req.filter && !req.filter(stored.obj)) continue;
        items.push(stored);
        if (limit && items.length === limit) {
          const moreHere = i < kvs.length - 1 || res.more;
          if (!moreHere) return { items, rev: revision };
          const nextKey = `${stored.key.slice(req.prefix.length)}\u0000`;
          const page: ListPage = { items, rev: revision, continue: encodeContinue(revision, nextKey) };
          if (!req.filter && !req.keyFilter) page.remainingItemCount = Number(res.count) - (i + 1);
          return page;
        }
      }
      const last = kvs[kvs.length - 1];
      if (!res.more || !last) return { items, rev: revision };
      start = Buffer.concat([last.key, Buffer.from([0])]);
      pageSize = Math.min(Math.max(pageSize * 2, 500), 10_000);
    }
  }

  /**
   * A lease that keeps a key for at least ttlSeconds. As upstream's lease manager, one lease is
   * shared by the writes of a short window (5% of the TTL), so a key lives ttl to ttl+5%.
   */
  leaseFor(ttlSeconds: number): Promise<string> {
    const now = Date.now();
    const reuseMs = ttlSeconds * 50; // 5% of the TTL, in ms
    if (this.lease && this.lease.ttl === ttlSeconds && now - this.lease.granted < reuseMs) return this.lease.id;
    const id = this.client.leaseClient.leaseGrant({ TTL: Math.ceil(ttlSeconds + reuseMs / 1000) }).then((r) => r.ID);
    const entry = { id, granted: now, ttl: ttlSeconds };
    this.lease = entry;
    id.catch(() => {
      if (this.lease === entry) this.lease = undefined;
    });
    return id;
  }

  /** Deletes a key unconditionally (allocation bookkeeping). True if it existed. */
  async deleteKey(key: string): Promise<boolean> {
    const res = await this.client.kv.deleteRange({ key: Buffer.from(key) });
    return Number(res.deleted) > 0;
  }

  /** Deletes a raw key only while it still holds value (no race with a concurrent re-allocation). */
  async deleteKeyIfValue(key: string, value: string): Promise<boolean> {
    const k = Buffer.from(key);
    const res = await this.txn({
      compare: [{ key: k, target: "Value", result: "Equal", value: Buffer.from(value) }],
      success: [{ request_delete_range: { key: k } }],
      failure: [],
    });
    return res.succeeded;
  }

  /** Creates a raw key only if absent. True when this call created it. */
  async createKeyIfAbsent(key: string, value: string): Promise<boolean> {
    const k = Buffer.from(key);
    const res = await this.txn({
      compare: [{ key: k, target: "Create", result: "Equal", create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
      failure: [],
    });
    return res.succeeded;
  }

  /** Raw keys under a prefix (allocation bookkeeping). */
  async rawList(prefix: string): Promise<Array<{ key: string; value: string }>> {
    const key = Buffer.from(prefix);
    const res = await this.client.kv.range({ key, range_end: prefixEnd(key) });
    return res.kvs.map((kv) => ({ key: kv.key.toString("utf8"), value: kv.value.toString("utf8") }));
  }

  /**
   * Compacts history every intervalMs, keeping what was written since the previous tick (as
   * kube-apiserver's --etcd-compaction-interval): each tick compacts to the revision seen at
   * the tick before.
   */
  startCompaction(intervalMs: number): void {
    if (intervalMs <= 0) return;
    this.stopCompaction();
    this.compactTimer = setInterval(() => {
      void this.compactTick();
    }, intervalMs);
    this.compactTimer.unref();
  }

  stopCompaction(): void {
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = undefined;
  }

  /** One compaction step; exported for tests. Returns the revision compacted to (0: none). */
  async compactTick(): Promise<number> {
    try {
      const current = await this.currentRevision();
      const target = this.lastCompactCandidate;
      this.lastCompactCandidate = current;
      if (target <= 0) return 0;
      await this.compact(target);
      return target;
    } catch (err) {
      this.log.warn({ err }, "etcd compaction failed");
      return 0;
    }
  }

  /** Compacts history up to revision (ignores "already compacted"). */
  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision, physical: false });
      this.log.info({ revision }, "compacted etcd history");
    } catch (err) {
      if (isCompactedError(err)) return;
      throw err;
    }
  }

  close(): void {
    this.stopCompaction();
    this.client.close();
  }

  private async txn(req: ITxnRequest): Promise<ITxnResponse> {
    try {
      return await this.client.kv.txn(req);
    } catch (err) {
      throw this.translate(err);
    }
  }

  /** etcd errors that mean something to a client; anything else becomes a 500 with context. */
  private translate(err: unknown, revision?: number): Error {
    if (err instanceof StatusError) return err;
    if (isCompactedError(err))
      return expired(`too old resource version: ${revision ?? 0} (the etcd history has been compacted)`);
    if (isFutureRevisionError(err)) return tooLargeResourceVersion(revision ?? 0, 0);
    const message = err instanceof Error ? err.message : String(err);
    return internalError(`etcd request failed: ${message}`);
  }
}
