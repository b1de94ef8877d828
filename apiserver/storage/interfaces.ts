// The storage interface the registry and the watch cache are written against (upstream:
// apiserver/pkg/storage/interfaces.go). Two implementations: EtcdStorage (etcd.ts) and
// MemoryStorage (memory.ts), with the same resourceVersion, conflict, paging, watch and
// compaction (410) semantics, so the store and the watch cache can be unit-tested without etcd.

import type { QualifiedResource } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { Logger } from "#pkg/runtime/log.js";
import type { Transformer } from "./value/transformer.js";

export const CONFLICT_MESSAGE =
  "the object has been modified; please apply your changes to the latest version and try again";

/** Which object a storage call is about: enough to build its key and upstream error messages. */
export interface ObjectRef {
  r: QualifiedResource;
  namespace?: string | undefined;
  name: string;
}

/** An object as read from storage: its decoded body (resourceVersion set) and mod revision. */
export interface Stored {
  obj: KubeObject;
  rev: number;
  /** The key (set on list results). */
  key?: string;
  /** The stored JSON, decrypted (set on reads): an update encoding to the same bytes is a no-op. */
  raw?: Buffer;
  /**
   * Read with other than the provider or key that encrypts now (set on reads): the next update
   * writes even when nothing changed, so a rewrite re-encrypts (upstream's key rotation).
   */
  stale?: boolean;
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
  /** The written key expires about this many seconds later (events: --event-ttl). */
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

export interface DeleteOptions {
  /** Checked against the current object inside the transaction; throw to refuse. */
  validate?: ((current: Stored) => void) | undefined;
  suggestion?: Stored | undefined;
  dryRun?: boolean;
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
  /** Key prefix ending in "/" (see Storage.listPrefix). */
  prefix: string;
  limit?: number | undefined;
  continue?: string | undefined;
  /** Read at this revision (0 or absent: the latest). */
  revision?: number | undefined;
  filter?: ((obj: KubeObject) => boolean) | undefined;
  /** Skips keys before decoding (e.g. non-object bookkeeping keys under the prefix). */
  keyFilter?: ((key: string) => boolean) | undefined;
}

/** One change of one key under a watched prefix. */
export interface KeyEvent {
  type: "Put" | "Delete";
  key: string;
  /** The new value (Put only). */
  value?: Buffer | undefined;
  /** The revision of the change (the key's new mod revision). */
  rev: number;
}

export interface PrefixWatchHandlers {
  /** Events of one revision, in order. */
  onEvents(events: KeyEvent[], rev: number): void;
  /** Everything up to rev has been delivered (progress notification). */
  onProgress(rev: number): void;
  /** The start revision was compacted away: the owner must re-list. */
  onCompacted(compactRevision: number): void;
}

/** A raw watch of every key under a prefix (what the watch cache is fed by). */
export interface PrefixWatcher {
  start(): void;
  /** Restart after a new revision (after the owner re-listed). */
  restart(fromRev: number): void;
  /** Ask for a progress notification (coalesced while one is outstanding). */
  requestProgress(): void;
  stop(): void;
}

export interface Storage {
  /** Key prefix, e.g. "/registry" (no trailing slash). */
  readonly prefix: string;
  /** `{prefix}/{resource}/{namespace}/{name}`, or without the namespace for cluster-scoped objects. */
  key(ref: ObjectRef): string;
  /** Prefix of a collection: all namespaces, or one namespace. Always ends in "/". */
  listPrefix(r: QualifiedResource, namespace?: string): string;
  /** The current revision. */
  currentRevision(): Promise<number>;
  /** Encryption at rest: what the value at key goes through (undefined: stored as plain JSON). */
  transformerFor(key: string): Transformer | undefined;
  healthy(): Promise<boolean>;

  get(ref: ObjectRef, revision?: number): Promise<Stored | undefined>;
  /** Stores a new object; 409 AlreadyExists when the key exists. */
  create(ref: ObjectRef, obj: KubeObject, opts?: { ttlSeconds?: number | undefined }): Promise<Stored>;
  /**
   * Read-modify-write with optimistic concurrency (upstream GuaranteedUpdate): tryUpdate sees the
   * current object and returns the new one (or DELETE / NO_CHANGE); it runs again when another
   * writer got there first, and throws to abort.
   */
  guaranteedUpdate(ref: ObjectRef, tryUpdate: TryUpdate, opts?: GuaranteedUpdateOptions): Promise<UpdateResult>;
  /** Deletes an object (404 when missing) after opts.validate accepted the current state. */
  delete(ref: ObjectRef, opts?: DeleteOptions): Promise<UpdateResult>;
  /** One page of a collection at a consistent revision. */
  list(req: ListRequest): Promise<ListPage>;
  /** Every change under prefix after fromRev, reported to handlers once started. */
  watchPrefix(prefix: string, fromRev: number, handlers: PrefixWatchHandlers, log: Logger): PrefixWatcher;

  /** Raw keys beside the objects (allocation bookkeeping): create if absent, true when created. */
  createKeyIfAbsent(key: string, value: string): Promise<boolean>;
  /** Deletes a raw key unconditionally; true if it existed. */
  deleteKey(key: string): Promise<boolean>;
  /** Deletes a raw key only while it still holds value (no race with a re-allocation). */
  deleteKeyIfValue(key: string, value: string): Promise<boolean>;
  rawList(prefix: string): Promise<Array<{ key: string; value: string }>>;
  /** Whether a raw key exists (dry-run allocations check without taking). */
  rawExists(key: string): Promise<boolean>;

  /** Drops history up to revision: reads, continues and watches from before it answer 410. */
  compact(revision: number): Promise<void>;
  /** Compacts every intervalMs to the revision of the tick before (0: never). */
  startCompaction(intervalMs: number): void;
  close(): void;
}
