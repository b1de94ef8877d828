// The etcd half of the storage layer (upstream: apiserver/pkg/storage/etcd3/store.go).
// Keys are `{prefix}/{resource}/{namespace}/{name}` (cluster-scoped: `{prefix}/{resource}/{name}`),
// values are the object's JSON without metadata.resourceVersion; on the way out
// resourceVersion is set to the key's mod_revision. Every write is one etcd transaction that
// compares create_revision (create) or mod_revision (update, delete), so no update is ever lost.

import { Etcd3, type IKeyValue, type IRangeResponse, type ITxnRequest, type ITxnResponse } from "etcd3";
import { alreadyExists, internalError, type QualifiedResource, StatusError } from "#pkg/api/errors.js";
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
import { PrefixWatch } from "./etcd-watch.js";
import {
  DELETE,
  type DeleteOptions,
  type GuaranteedUpdateOptions,
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

export function isCompactedError(err: unknown): boolean {
  return err instanceof Error && /required revision has been compacted/.test(err.message);
}

export function isFutureRevisionError(err: unknown): boolean {
  return err instanceof Error && /required revision is a future revision/.test(err.message);
}

function keyValueOf(kv: IKeyValue): KeyValue {
  return { key: kv.key.toString("utf8"), value: kv.value, modRev: Number(kv.mod_revision) };
}

/** TLS to etcd (upstream --etcd-cafile, --etcd-certfile, --etcd-keyfile), PEM contents. */
export interface EtcdTLS {
  /** The CA etcd's serving certificate chains to. */
  ca: string;
  /** The client certificate and key etcd's --client-cert-auth asks for. */
  cert?: string;
  key?: string;
}

export interface EtcdStorageOptions {
  endpoints: string[];
  tls?: EtcdTLS;
  /** Key prefix, e.g. "/registry" (no trailing slash). */
  prefix: string;
  log: Logger;
  /** Encryption at rest (--encryption-provider-config), per resource; default: none. */
  transformers?: KeyTransformers | undefined;
}

export class EtcdStorage implements Storage {
  readonly client: Etcd3;
  readonly prefix: string;
  private readonly log: Logger;
  private readonly transformers: KeyTransformers;
  private compactTimer: NodeJS.Timeout | undefined;
  private lease: { id: Promise<string>; granted: number; ttl: number } | undefined;
  private lastCompactCandidate = 0;

  constructor(o: EtcdStorageOptions) {
    checkPrefix(o.prefix);
    this.prefix = o.prefix;
    this.log = o.log;
    this.transformers = o.transformers ?? NO_TRANSFORMERS;
    const tls = o.tls;
    this.client = new Etcd3({
      hosts: o.endpoints,
      ...(tls
        ? {
            credentials: {
              rootCertificate: Buffer.from(tls.ca),
              ...(tls.cert ? { certChain: Buffer.from(tls.cert) } : {}),
              ...(tls.key ? { privateKey: Buffer.from(tls.key) } : {}),
            },
          }
        : {}),
      // Large unpaged ranges exceed grpc-js's 4 MiB default (PERF.md B1).
      grpcOptions: { "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 },
    });
  }

  /** `{prefix}/{resource}/{namespace}/{name}`, or without the namespace for cluster-scoped objects. */
  key(ref: ObjectRef): string {
    return objectKey(this.prefix, ref);
  }

  /** Prefix of a collection: all namespaces, or one namespace. Always ends in "/". */
  listPrefix(r: QualifiedResource, namespace?: string): string {
    return collectionPrefix(this.prefix, r, namespace);
  }

  /** The current etcd revision (the header of a one-key read: O(1) however much is stored). */
  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: Buffer.from(`${this.prefix}/`), count_only: true });
    return Number(res.header.revision);
  }

  transformerFor(key: string): Transformer | undefined {
    return this.transformers.forKey(key);
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
    return kv ? storedOf(keyValueOf(kv), this.transformers.forKey(key.toString())) : undefined;
  }

  /** Stores a new object; 409 AlreadyExists when the key exists. One transaction. */
  async create(ref: ObjectRef, obj: KubeObject, opts: { ttlSeconds?: number | undefined } = {}): Promise<Stored> {
    const k = this.key(ref);
    const key = Buffer.from(k);
    const value = encodeObject(ref, obj, { key: k, transformer: this.transformers.forKey(k) });
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
   * Read-modify-write with optimistic concurrency (upstream GuaranteedUpdate). When another
   * writer got there first, the transaction's failure branch returns the fresh value and
   * tryUpdate runs again.
   */
  guaranteedUpdate(ref: ObjectRef, tryUpdate: TryUpdate, opts: GuaranteedUpdateOptions = {}): Promise<UpdateResult> {
    const k = this.key(ref);
    const key = Buffer.from(k);
    const transformer = this.transformers.forKey(k);
    const commit: Commit = async (current, write) => {
      let success: ITxnRequest["success"];
      if (write === DELETE) success = [{ request_delete_range: { key } }];
      else {
        const lease = write.ttlSeconds ? await this.leaseFor(write.ttlSeconds) : undefined;
        success = [{ request_put: lease ? { key, value: write.value, lease } : { key, value: write.value } }];
      }
      const res = await this.txn({
        compare: current
          ? [{ key, target: "Mod", result: "Equal", mod_revision: current.rev }]
          : [{ key, target: "Create", result: "Equal", create_revision: 0 }],
        success,
        failure: [{ request_range: { key } }],
      });
      if (res.succeeded) return { succeeded: true, rev: Number(res.header.revision) };
      const kv = res.responses[0]?.response_range?.kvs[0];
      return { succeeded: false, current: kv ? storedOf(keyValueOf(kv), transformer) : undefined };
    };
    return guaranteedUpdateLoop(ref, { key: k, transformer }, tryUpdate, opts, () => this.get(ref), commit);
  }

  delete(ref: ObjectRef, opts: DeleteOptions = {}): Promise<UpdateResult> {
    return deleteVia((r, t, o) => this.guaranteedUpdate(r, t, o), ref, opts);
  }

  /**
   * One page of a collection at a consistent revision. With a filter, keeps reading until the
   * page is full or the range ends, so a selective filter still returns `limit` items.
   */
  list(req: ListRequest): Promise<ListPage> {
    return listPaged(
      req,
      prefixEnd(Buffer.from(req.prefix)),
      async ({ start, end, limit, revision }) => {
        let res: IRangeResponse;
        try {
          res = await this.client.kv.range({
            key: start,
            range_end: end,
            ...(limit ? { limit } : {}),
            ...(revision ? { revision } : {}),
          });
        } catch (err) {
          throw this.translate(err, revision);
        }
        return {
          kvs: res.kvs.map(keyValueOf),
          more: res.more,
          count: Number(res.count),
          rev: Number(res.header.revision),
        };
      },
      (key) => this.transformers.forKey(key),
    );
  }

  watchPrefix(prefix: string, fromRev: number, handlers: PrefixWatchHandlers, log: Logger): PrefixWatcher {
    return new PrefixWatch(this, prefix, fromRev, handlers, log);
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

  async rawExists(key: string): Promise<boolean> {
    const res = await this.client.kv.range({ key: Buffer.from(key), count_only: true });
    return Number(res.count) > 0;
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
    if (isCompactedError(err)) return compactedError(revision);
    if (isFutureRevisionError(err)) return tooLargeResourceVersion(revision ?? 0, 0);
    const message = err instanceof Error ? err.message : String(err);
    return internalError(`etcd request failed: ${message}`);
  }
}
