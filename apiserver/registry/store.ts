// The generic registry store (upstream: apiserver/pkg/registry/generic/registry/store.go): CRUD
// on one resource with the metadata rules every kind shares (names, uid, timestamps,
// resourceVersion concurrency, finalizers, graceful deletion). It knows no kind: the per-kind
// rules come from the kind's Strategy, and what needs state (service IP allocation,
// subresources) from the hooks its REST storage wires in (apiserver/registry/rest.ts). Reads of
// resourceVersion=0 and all watches go to the watch cache; everything else reads storage. The
// Store takes ownership of the objects passed in (it may mutate them) and returns objects that
// callers must not mutate (they may be shared with the watch cache).

import { randomInt, randomUUID } from "node:crypto";
import {
  badRequest,
  conflict,
  type FieldError,
  fieldForbidden,
  invalid,
  isAlreadyExists,
  isNotFound,
  notFound,
  StatusError,
} from "#pkg/api/errors.js";
import { parseFieldSelector } from "#pkg/api/fields.js";
import { parseLabelSelector } from "#pkg/api/labels.js";
import {
  type DeleteOptions,
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type WatchEvent,
} from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import {
  type NameValidator,
  nameIsDNSSubdomain,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "#pkg/api/validation.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  type Attributes,
  type GroupVersionKind,
  newAttributes,
  type Operation,
  type RequestSink,
} from "../admission/attributes.js";
import type { AdmissionChain } from "../admission/chain.js";
import type { UserInfo } from "../auth/user.js";
import { applyPatch, applyServerSide } from "../patch/index.js";
import { encodeObject } from "../storage/codec.js";
import {
  CONFLICT_MESSAGE,
  DELETE,
  NO_CHANGE,
  type ObjectRef,
  type Storage,
  type Stored,
  type UpdateResult,
} from "../storage/interfaces.js";
import type { ResourceCache, WatchCache } from "../storage/watch-cache.js";
import { checkObject, type ExpectedObject } from "./object-checks.js";
import type { GarbageCollectionPolicy, Strategy } from "./strategy.js";

export interface RequestContext {
  user?: string;
  /** Who asks (admission plugins and audit see it). */
  userInfo?: UserInfo;
  /** Where admission plugins leave warnings and audit annotations for the HTTP layer. */
  sink?: RequestSink;
  /** ?dryRun=All: run everything, store nothing. */
  dryRun?: boolean;
  fieldManager?: string;
  /** The HTTP layer does unknown-field checks; passed for information. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export type PatchKind = "merge" | "json" | "strategic" | "apply";

/** Subresources that write through update/patch: status, and a namespace's finalize. */
export type WriteSubresource = "status" | "finalize" | "ephemeralcontainers";

export interface StoreDeps {
  resource: ResourceInfo;
  strategy: Strategy;
  storage: Storage;
  watchCache: WatchCache;
  /** The admission chain every write passes (absent: none, e.g. unit tests of the store alone). */
  admission?: AdmissionChain | undefined;
  /** Kind-specific steps around writes that need state (service IP/port allocation). */
  hooks?: StoreHooks | undefined;
  /** The scale subresource, for kinds that have one. */
  scale?: ((store: Store) => ScaleSubresource) | undefined;
  /** The binding subresource (pods). */
  binding?: ((store: Store) => BindingSubresource) | undefined;
  /** Objects expire this long after their last write (events: --event-ttl). */
  ttlSeconds?: number | undefined;
  /** Told the revision of every write this store makes (the registry tracks namespace writes). */
  onWrite?: ((rev: number) => void) | undefined;
  log: Logger;
}

/**
 * The per-request state of a write (upstream BeginCreate/BeginUpdate and their FinishFunc; the
 * service storage's allocation transaction): steps before the object is stored, and the
 * commit or revert once the write is decided.
 */
export interface WriteTransaction {
  /** A new object is about to be stored (create, create-on-update, apply). Runs again on a retry. */
  beforeCreate?(namespace: string | undefined, obj: KubeObject): Promise<void>;
  /** A main-endpoint update is about to be stored. Runs again on a retry. */
  beforeUpdate?(namespace: string | undefined, next: KubeObject, old: KubeObject): Promise<void>;
  /** The write is decided (written, or not: dry run, no change); previous is the object before it. */
  commit(res: Pick<UpdateResult, "obj" | "written" | "deleted">, previous: KubeObject | undefined): Promise<void>;
  /** The write failed (or was a dry run): undo what the steps did. */
  revert(): Promise<void>;
}

export interface StoreHooks {
  /** Starts the state of one write request. */
  begin?(ctx: RequestContext): WriteTransaction;
  /** upstream AfterDelete: the object is gone from storage. */
  afterDelete?(obj: KubeObject): Promise<void>;
}

/** The scale subresource of a scalable kind (upstream ScaleREST). */
export interface ScaleSubresource {
  get(ns: string, name: string): Promise<KubeObject>;
  update(ns: string, name: string, scale: KubeObject, ctx: RequestContext): Promise<KubeObject>;
  patch(ns: string, name: string, kind: PatchKind, patch: unknown, ctx: RequestContext): Promise<KubeObject>;
}

/** pods/binding (upstream BindingREST). */
export interface BindingSubresource {
  create(ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<KubeObject>;
}

/** Upstream's generateName suffix alphabet (no vowels, no confusable digits). */
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

export function generateNameSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += NAME_CHARS[randomInt(NAME_CHARS.length)];
  return s;
}

/** metav1.Time, offsetSeconds from now (deletion timestamps). */
function timeIn(offsetSeconds: number): string {
  return metaTime(Date.now() + offsetSeconds * 1000);
}

/**
 * Go's omitempty on ObjectMeta: an empty ownerReferences or finalizers list is not stored (a
 * strategic merge patch that deletes the last owner reference leaves none, not []).
 */
function omitEmptyLists(meta: KubeObject["metadata"]): void {
  if (meta.ownerReferences?.length === 0) delete meta.ownerReferences;
  if (meta.finalizers?.length === 0) delete meta.finalizers;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** No kind-specific steps: nothing to commit or revert. */
const NO_TRANSACTION: WriteTransaction = { commit: async () => {}, revert: async () => {} };

export class Store {
  readonly resource: ResourceInfo;
  readonly strategy: Strategy;
  private readonly storage: Storage;
  private readonly watchCache: WatchCache;
  private readonly cache: ResourceCache;
  private readonly deps: StoreDeps;
  private readonly log: Logger;
  /** The resource as errors name it. */
  readonly qr: { group: string; resource: string };
  private readonly nameFn: NameValidator;
  /** What objects written to this store must be (see object-checks.ts). */
  private readonly expected: ExpectedObject;
  private supportedFields: Set<string> | undefined | null;
  private readonly scale: ScaleSubresource | undefined;
  private readonly binding: BindingSubresource | undefined;

  constructor(deps: StoreDeps) {
    this.deps = deps;
    this.resource = deps.resource;
    this.strategy = deps.strategy;
    this.storage = deps.storage;
    this.watchCache = deps.watchCache;
    this.cache = deps.watchCache.for(deps.resource);
    this.log = deps.log.child({ resource: deps.resource.resource });
    this.qr = { group: deps.resource.group, resource: deps.resource.resource };
    this.nameFn = deps.strategy.nameValidator ?? nameIsDNSSubdomain;
    this.expected = {
      apiVersion: apiVersionOf(deps.resource),
      kind: deps.resource.kind,
      namespaced: deps.resource.namespaced,
    };
    this.scale = deps.scale?.(this);
    this.binding = deps.binding?.(this);
  }

  // ------------------------------------------------------------------ reads

  async get(ns: string | undefined, name: string, opts?: { resourceVersion?: string }): Promise<KubeObject> {
    const namespace = this.nsOf(ns);
    if (opts?.resourceVersion === "0") {
      const cached = this.cache.get(namespace, name);
      if (!cached) throw notFound(this.qr, name);
      return cached.obj;
    }
    if (opts?.resourceVersion) {
      // NotOlderThan: the cache once it has seen that revision.
      await this.watchCache.waitFresh(this.parseRV(opts.resourceVersion));
      const cached = this.cache.get(namespace, name);
      if (!cached) throw notFound(this.qr, name);
      return cached.obj;
    }
    const stored = await this.storage.get(this.ref(namespace, name));
    if (!stored) throw notFound(this.qr, name);
    return stored.obj;
  }

  async list(ns: string | undefined, opts: ListOptions): Promise<KubeList> {
    const namespace = this.nsOf(ns);
    const filter = this.filterFor(opts);
    const rv = opts.resourceVersion ?? "";
    const list = (items: KubeObject[], rev: number, extra: { continue?: string; remainingItemCount?: number } = {}) =>
      ({
        apiVersion: apiVersionOf(this.resource),
        kind: this.resource.listKind,
        metadata: { resourceVersion: String(rev), ...extra },
        items,
      }) as KubeList;

    if (opts.continue) {
      if (rv !== "" && rv !== "0") throw badRequest("specifying resource version is not allowed when using continue");
      const page = await this.storage.list({
        prefix: this.storage.listPrefix(this.qr, namespace),
        limit: opts.limit,
        continue: opts.continue,
        filter,
      });
      return list(
        page.items.map((s) => s.obj),
        page.rev,
        this.pageMeta(page),
      );
    }
    const exact = opts.resourceVersionMatch === "Exact";
    if (exact && (rv === "" || rv === "0"))
      throw badRequest(`resourceVersionMatch "Exact" is forbidden for resourceVersion "${rv}"`);
    if (opts.resourceVersionMatch && rv === "")
      throw badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided");
    // From the cache: rv=0 (any), or rv=N NotOlderThan without paging once the cache reached N.
    if (rv === "0" || (rv !== "" && !exact && !opts.limit)) {
      if (rv !== "0") await this.watchCache.waitFresh(this.parseRV(rv));
      return list(this.cache.list(namespace, filter), this.watchCache.rev);
    }
    const page = await this.storage.list({
      prefix: this.storage.listPrefix(this.qr, namespace),
      limit: opts.limit,
      revision: exact ? this.parseRV(rv) : undefined,
      filter,
    });
    if (rv !== "" && !exact && page.rev < this.parseRV(rv))
      throw new StatusError(504, "Timeout", `Too large resource version: ${rv}, current: ${page.rev}`);
    return list(
      page.items.map((s) => s.obj),
      page.rev,
      this.pageMeta(page),
    );
  }

  /**
   * Watch from the watch cache. resourceVersion absent: current state as ADDED events (after a
   * consistent read point), then changes; "0": the same from whatever the cache has; N: changes
   * after N (410 if N left the history). sendInitialEvents adds the initial-events-end bookmark.
   */
  async *watch(ns: string | undefined, opts: ListOptions, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const namespace = this.resource.namespaced ? ns : undefined;
    const filter = this.filterFor(opts);
    const rv = opts.resourceVersion ?? "";
    const initial = opts.sendInitialEvents === true || rv === "" || rv === "0";
    // Upstream's watch ListOptions validation.
    const optErrs: FieldError[] = [];
    if (opts.sendInitialEvents !== undefined) {
      if (opts.resourceVersionMatch !== "NotOlderThan")
        optErrs.push(
          fieldForbidden(
            "resourceVersionMatch",
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
          ),
        );
      if (!opts.allowWatchBookmarks)
        optErrs.push(
          fieldForbidden("allowWatchBookmarks", "sendInitialEvents requires setting allowWatchBookmarks to true"),
        );
    } else if (opts.resourceVersionMatch) {
      optErrs.push(
        fieldForbidden(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
      );
    }
    if (optErrs.length > 0) throw invalid("ListOptions", "meta.k8s.io", "", optErrs);
    if (initial) {
      // sendInitialEvents with rv=N: a snapshot at least as new as N.
      if (rv === "") await this.watchCache.sync(signal);
      else if (rv !== "0") await this.watchCache.waitFresh(this.parseRV(rv), signal);
    }
    yield* this.cache.watch({
      namespace,
      filter,
      fromRev: initial ? undefined : this.parseRV(rv),
      sendInitialEvents: opts.sendInitialEvents === true,
      allowBookmarks: opts.allowWatchBookmarks === true,
      timeoutMs: opts.timeoutSeconds !== undefined && opts.timeoutSeconds > 0 ? opts.timeoutSeconds * 1000 : undefined,
      signal,
    });
  }

  // ------------------------------------------------------------------ create

  async create(ns: string | undefined, obj: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const namespace = this.nsOf(ns);
    obj = checkObject(obj, this.expected, namespace, undefined);
    if (obj.metadata.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
    // Upstream defaults at decoding: mutating plugins see a defaulted object, before any name is generated.
    const requestName = obj.metadata.name ?? "";
    this.strategy.applyDefaults(obj);
    await this.admission("admit", "CREATE", namespace, requestName, obj, undefined, ctx, "");
    const generated = !obj.metadata.name && !!obj.metadata.generateName;
    // Strategies mutate what they prepare: a retry with another generated name starts afresh.
    const pristine = generated ? clone(obj) : undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && pristine) obj = clone(pristine);
      if (generated) obj.metadata.name = `${obj.metadata.generateName}${generateNameSuffix()}`;
      const name = obj.metadata.name ?? "";
      this.prepareCreate(obj);
      await this.admission("validate", "CREATE", namespace, requestName, obj, undefined, ctx, "");
      const txn = this.begin(ctx);
      try {
        await txn.beforeCreate?.(namespace, obj);
        if (ctx.dryRun) {
          const ref = this.ref(namespace, name);
          const key = this.storage.key(ref);
          encodeObject(ref, obj, { key, transformer: this.storage.transformerFor(key) }); // the size check
          await txn.revert();
          return obj;
        }
        const stored = await this.storage.create(this.ref(namespace, name), obj, { ttlSeconds: this.deps.ttlSeconds });
        this.deps.onWrite?.(stored.rev);
        await txn.commit({ obj: stored.obj, written: true, deleted: false }, undefined);
        this.log.debug({ namespace, name }, "created");
        return stored.obj;
      } catch (err) {
        await txn.revert();
        // A generated name that happens to exist: try another suffix (upstream retries too).
        if (generated && isAlreadyExists(err) && attempt < 8) continue;
        throw err;
      }
    }
  }

  // ------------------------------------------------------------------ update / patch

  async update(
    ns: string | undefined,
    name: string,
    obj: KubeObject,
    ctx: RequestContext & { subresource?: WriteSubresource },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const namespace = this.nsOf(ns);
    obj = checkObject(obj, this.expected, namespace, name);
    const txn = this.begin(ctx);
    const allowCreate = !ctx.subresource && this.strategy.allowCreateOnUpdate === true;
    let previous: KubeObject | undefined;
    try {
      const res = await this.storage.guaranteedUpdate(
        this.ref(namespace, name),
        async (cur) => {
          previous = cur?.obj;
          const next = clone(obj);
          if (!cur) {
            if (next.metadata.resourceVersion) throw notFound(this.qr, name);
            await this.createInUpdate(namespace, next, ctx, txn);
            return next;
          }
          const rv = next.metadata.resourceVersion;
          if (rv && rv !== String(cur.rev)) throw conflict(this.qr, name, CONFLICT_MESSAGE);
          return this.prepareUpdate(namespace, next, cur, ctx, txn, { ctx, subresource: ctx.subresource ?? "" });
        },
        {
          allowCreate,
          dryRun: ctx.dryRun === true,
          ttlSeconds: this.deps.ttlSeconds,
          suggestion: this.suggestion(namespace, name),
        },
      );
      if (res.written && !ctx.dryRun) this.deps.onWrite?.(res.rev);
      await txn.commit(res, previous);
      return { object: res.obj, created: res.created };
    } catch (err) {
      await txn.revert();
      throw err;
    }
  }

  async patch(
    ns: string | undefined,
    name: string,
    kind: PatchKind,
    patch: unknown,
    ctx: RequestContext & { subresource?: WriteSubresource; force?: boolean },
  ): Promise<{ object: KubeObject; created: boolean }> {
    const namespace = this.nsOf(ns);
    const txn = this.begin(ctx);
    let previous: KubeObject | undefined;
    try {
      const res = await this.storage.guaranteedUpdate(
        this.ref(namespace, name),
        async (cur) => {
          previous = cur?.obj;
          let next: KubeObject;
          if (kind === "apply") {
            const applied = patch as KubeObject;
            if (applied?.metadata?.name !== undefined && applied.metadata.name !== name)
              throw badRequest(
                `the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`,
              );
            next = applyServerSide(cur?.obj, applied, {
              manager: ctx.fieldManager ?? "",
              force: ctx.force === true,
              resource: this.resource,
              ...(ctx.subresource === "status" ? { subresource: "status" } : {}),
            });
            if (!cur) {
              if (ctx.subresource) throw notFound(this.qr, name);
              next = checkObject(next, this.expected, namespace, undefined);
              next.metadata.name = name;
              delete next.metadata.resourceVersion;
              await this.createInUpdate(namespace, next, ctx, txn);
              return next;
            }
          } else {
            if (!cur) throw notFound(this.qr, name);
            // The patch result may share structure with its input; keep the current object intact.
            next = applyPatch(kind, clone(cur.obj), patch);
          }
          const c = cur as Stored;
          // A resourceVersion in the patch is a precondition (the patched object keeps it).
          const rv = next.metadata?.resourceVersion;
          if (rv && rv !== String(c.rev)) throw conflict(this.qr, name, CONFLICT_MESSAGE);
          next = checkObject(next, this.expected, namespace, undefined);
          if (next.metadata.name !== name) throw badRequest("metadata.name: the name may not be changed by a patch");
          return this.prepareUpdate(namespace, next, c, ctx, txn, { ctx, subresource: ctx.subresource ?? "" });
        },
        {
          allowCreate: kind === "apply",
          dryRun: ctx.dryRun === true,
          ttlSeconds: this.deps.ttlSeconds,
          suggestion: this.suggestion(namespace, name),
        },
      );
      if (res.written && !ctx.dryRun) this.deps.onWrite?.(res.rev);
      await txn.commit(res, previous);
      return { object: res.obj, created: res.created };
    } catch (err) {
      await txn.revert();
      throw err;
    }
  }

  // ------------------------------------------------------------------ delete

  async delete(
    ns: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: RequestContext,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const namespace = this.nsOf(ns);
    this.strategy.beforeDelete?.(name);
    const dryRun = ctx.dryRun === true || (opts.dryRun ?? []).includes("All");
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 0;
    const actx: RequestContext = { ...ctx, dryRun };
    // Upstream: mutating plugins see a delete without objects, validating ones the object it removes.
    await this.admission("admit", "DELETE", namespace, name, undefined, undefined, actx, "");
    const res = await this.storage.guaranteedUpdate(
      this.ref(namespace, name),
      async (cur) => {
        const c = cur as Stored;
        await this.admission("validate", "DELETE", namespace, name, undefined, c.obj, actx, "");
        return this.decideDelete(c, opts);
      },
      { dryRun, suggestion: this.suggestion(namespace, name) },
    );
    if (res.written) this.deps.onWrite?.(res.rev);
    if (res.deleted && !dryRun) {
      await this.deps.hooks?.afterDelete?.(res.obj);
      this.log.debug({ namespace, name }, "deleted");
    }
    return { object: res.obj, deleted: res.deleted };
  }

  async deleteCollection(
    ns: string | undefined,
    listOpts: ListOptions,
    opts: DeleteOptions,
    ctx: RequestContext,
  ): Promise<KubeList> {
    const { resourceVersion: _rv, resourceVersionMatch: _m, limit: _l, continue: _c, ...rest } = listOpts;
    const current = await this.list(ns, rest);
    const deleted: KubeObject[] = [];
    const queue = [...current.items];
    const worker = async () => {
      for (;;) {
        const item = queue.shift();
        if (!item) return;
        try {
          const r = await this.delete(item.metadata.namespace, item.metadata.name ?? "", { ...opts }, ctx);
          deleted.push(r.object);
        } catch (err) {
          // Gone already, or immortal namespaces: not this call's business.
          if (isNotFound(err) || (err instanceof StatusError && err.code === 403)) continue;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, queue.length) }, worker));
    return {
      apiVersion: apiVersionOf(this.resource),
      kind: this.resource.listKind,
      metadata: { resourceVersion: current.metadata.resourceVersion ?? "" },
      items: deleted,
    } as KubeList;
  }

  // ------------------------------------------------------------------ subresources

  async getScale(ns: string, name: string): Promise<KubeObject> {
    return this.scaleSubresource().get(ns, name);
  }

  async updateScale(ns: string, name: string, scale: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    return this.scaleSubresource().update(ns, name, scale, ctx);
  }

  async patchScale(
    ns: string,
    name: string,
    kind: PatchKind,
    patch: unknown,
    ctx: RequestContext,
  ): Promise<KubeObject> {
    return this.scaleSubresource().patch(ns, name, kind, patch, ctx);
  }

  async bind(ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    if (!this.binding) throw badRequest(`${this.resource.resource} have no binding subresource`);
    await this.admitSubresourceCreate(ns, name, "binding", { group: "", version: "v1", kind: "Binding" }, binding, ctx);
    const res = await this.binding.create(ns, name, binding, ctx);
    this.log.debug({ namespace: ns, name }, "bound");
    return res;
  }

  /**
   * Admission of a create on a subresource of ns/name (upstream: the create handler's admit, then
   * the createValidation the subresource's REST storage calls first): pods/binding,
   * pods/eviction, serviceaccounts/token. obj is the subresource's own object (a Binding, an
   * Eviction, a TokenRequest) of the given kind; the object it acts on is stored under this store.
   */
  async admitSubresourceCreate(
    ns: string | undefined,
    name: string,
    subresource: string,
    kind: GroupVersionKind,
    obj: KubeObject,
    ctx: RequestContext,
  ): Promise<void> {
    const chain = this.deps.admission;
    if (!chain) return;
    const a = this.attributes("CREATE", this.nsOf(ns), name, obj, undefined, ctx, subresource, kind);
    await chain.admit(a);
    await chain.validate(a);
  }

  // ------------------------------------------------------------------ for subresource storages

  /**
   * A main-endpoint update computed from the current object (upstream Store.Update with an
   * UpdatedObjectInfo): the scale subresource writes spec.replicas this way.
   */
  async updateWith(
    ns: string,
    name: string,
    ctx: RequestContext,
    compute: (cur: Stored) => KubeObject,
  ): Promise<UpdateResult> {
    const res = await this.storage.guaranteedUpdate(
      this.ref(ns, name),
      (cur) => {
        const c = cur as Stored;
        return this.prepareUpdate(ns, compute(c), c, {}, undefined, { ctx, subresource: "scale" });
      },
      { dryRun: ctx.dryRun === true, suggestion: this.suggestion(ns, name) },
    );
    if (res.written) this.deps.onWrite?.(res.rev);
    return res;
  }

  /**
   * A read-modify-write of the stored object that bypasses the strategy (upstream: a
   * subresource's own store.Storage.GuaranteedUpdate, as pods/binding does).
   */
  guaranteedUpdate(
    ns: string | undefined,
    name: string,
    tryUpdate: (cur: Stored) => KubeObject,
    opts: { dryRun?: boolean },
  ): Promise<UpdateResult> {
    const namespace = this.nsOf(ns);
    return this.storage.guaranteedUpdate(this.ref(namespace, name), (cur) => tryUpdate(cur as Stored), {
      dryRun: opts.dryRun === true,
      suggestion: this.suggestion(namespace, name),
    });
  }

  // ------------------------------------------------------------------ internals

  private begin(ctx: RequestContext): WriteTransaction {
    return this.deps.hooks?.begin?.(ctx) ?? NO_TRANSACTION;
  }

  private scaleSubresource(): ScaleSubresource {
    if (!this.scale)
      throw new StatusError(
        404,
        "NotFound",
        `the server could not find the requested resource (scale ${this.resource.resource})`,
      );
    return this.scale;
  }

  /**
   * The watch cache's copy as a starting point for a read-modify-write, saving the etcd read
   * when it is current; a stale one fails the transaction and is re-read (upstream does the
   * same). A copy, so that nothing done to it can reach the cache.
   */
  private suggestion(namespace: string | undefined, name: string): Stored | undefined {
    const cached = this.cache.get(this.nsOf(namespace), name);
    return cached ? { obj: clone(cached.obj), rev: cached.rev } : undefined;
  }

  private ref(namespace: string | undefined, name: string): ObjectRef {
    return { r: this.qr, namespace: this.resource.namespaced ? namespace : undefined, name };
  }

  private nsOf(ns: string | undefined): string | undefined {
    return this.resource.namespaced ? ns : undefined;
  }

  private parseRV(rv: string): number {
    const n = Number(rv);
    if (!/^\d+$/.test(rv) || !Number.isSafeInteger(n))
      throw badRequest(`invalid resource version ${JSON.stringify(rv)}: must be a non-negative integer`);
    return n;
  }

  private pageMeta(page: { continue?: string; remainingItemCount?: number }): {
    continue?: string;
    remainingItemCount?: number;
  } {
    const out: { continue?: string; remainingItemCount?: number } = {};
    if (page.continue) out.continue = page.continue;
    if (page.remainingItemCount !== undefined) out.remainingItemCount = page.remainingItemCount;
    return out;
  }

  // ------------------------------------------------------------------ admission

  private attributes(
    operation: Operation,
    namespace: string | undefined,
    name: string,
    object: KubeObject | undefined,
    oldObject: KubeObject | undefined,
    ctx: RequestContext,
    subresource: string,
    kind?: GroupVersionKind,
  ): Attributes {
    const r = this.resource;
    return newAttributes({
      operation,
      resource: { group: r.group, version: r.version, resource: r.resource },
      subresource,
      kind: kind ?? { group: r.group, version: r.version, kind: r.kind },
      namespace,
      name,
      object,
      oldObject,
      userInfo: ctx.userInfo,
      dryRun: ctx.dryRun,
      sink: ctx.sink,
    });
  }

  /**
   * Runs one half of the admission chain: "admit" the mutating plugins (upstream: the handlers'
   * admit), "validate" the validating ones (the create/update/delete validation funcs the store calls).
   */
  private async admission(
    phase: "admit" | "validate",
    operation: Operation,
    namespace: string | undefined,
    name: string,
    object: KubeObject | undefined,
    oldObject: KubeObject | undefined,
    ctx: RequestContext,
    subresource: string,
  ): Promise<void> {
    const chain = this.deps.admission;
    if (!chain) return;
    await chain[phase](this.attributes(operation, namespace, name, object, oldObject, ctx, subresource));
  }

  /** An update or apply of a missing object that creates it. */
  private async createInUpdate(
    namespace: string | undefined,
    obj: KubeObject,
    ctx: RequestContext,
    txn: WriteTransaction,
  ): Promise<void> {
    const name = obj.metadata.name ?? "";
    this.strategy.applyDefaults(obj);
    await this.admission("admit", "CREATE", namespace, name, obj, undefined, ctx, "");
    this.prepareCreate(obj);
    await this.admission("validate", "CREATE", namespace, name, obj, undefined, ctx, "");
    await txn.beforeCreate?.(namespace, obj);
  }

  /** Everything a new object goes through before it is stored (upstream BeforeCreate). */
  private prepareCreate(obj: KubeObject): void {
    const meta = obj.metadata;
    const name = meta.name ?? "";
    meta.uid = randomUUID();
    meta.creationTimestamp = metaTime();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    this.strategy.applyDefaults(obj);
    this.strategy.prepareForCreate(obj);
    omitEmptyLists(meta);
    const errs: FieldError[] = [
      ...validateObjectMeta(meta, this.resource.namespaced, "metadata", this.nameFn),
      ...this.strategy.validate(obj),
    ];
    if (errs.length > 0) throw invalid(this.resource.kind, this.resource.group, name || meta.generateName || "", errs);
  }

  /**
   * Main-endpoint and subresource updates (upstream BeforeUpdate): system metadata is carried
   * over, the strategy decides what the endpoint may change, and an unchanged object is not
   * written. An object being deleted whose last finalizer went away is deleted here.
   */
  private async prepareUpdate(
    namespace: string | undefined,
    next: KubeObject,
    cur: Stored,
    ctx: RequestContext & { subresource?: WriteSubresource },
    txn: WriteTransaction | undefined,
    adm: { ctx: RequestContext; subresource: string },
  ): Promise<KubeObject | typeof DELETE | typeof NO_CHANGE> {
    const old = cur.obj;
    const requestName = next.metadata.name ?? old.metadata.name ?? "";
    const meta = next.metadata;
    const oldMeta = old.metadata;
    meta.uid ??= oldMeta.uid;
    if (oldMeta.creationTimestamp !== undefined) meta.creationTimestamp = oldMeta.creationTimestamp;
    else delete meta.creationTimestamp;
    // Deletion state is the delete verb's business, never an update's.
    if (oldMeta.deletionTimestamp !== undefined) meta.deletionTimestamp = oldMeta.deletionTimestamp;
    else delete meta.deletionTimestamp;
    if (oldMeta.deletionGracePeriodSeconds !== undefined)
      meta.deletionGracePeriodSeconds = oldMeta.deletionGracePeriodSeconds;
    else delete meta.deletionGracePeriodSeconds;
    if (meta.managedFields === undefined && oldMeta.managedFields !== undefined)
      meta.managedFields = oldMeta.managedFields;
    meta.generation = oldMeta.generation ?? 1;
    meta.resourceVersion = String(cur.rev);

    this.strategy.applyDefaults(next);
    await this.admission("admit", "UPDATE", namespace, requestName, next, old, adm.ctx, adm.subresource);
    if (ctx.subresource === "status") {
      this.strategy.prepareForStatusUpdate(next, old);
    } else if (ctx.subresource === "finalize") {
      if (!this.strategy.prepareForFinalizeUpdate)
        throw badRequest(`${this.resource.resource} have no finalize subresource`);
      next = this.strategy.prepareForFinalizeUpdate(next, old);
    } else if (ctx.subresource === "ephemeralcontainers") {
      if (!this.strategy.ephemeralContainersUpdate)
        throw badRequest(`${this.resource.resource} have no ephemeralcontainers subresource`);
      next = this.strategy.ephemeralContainersUpdate.prepare(next, old);
    } else {
      this.strategy.prepareForUpdate(next, old);
      await txn?.beforeUpdate?.(namespace, next, old);
    }
    omitEmptyLists(next.metadata);
    const name = next.metadata.name ?? "";
    const errs: FieldError[] = [
      ...validateObjectMetaUpdate(next.metadata, oldMeta),
      ...validateObjectMeta(next.metadata, this.resource.namespaced, "metadata", this.nameFn),
      ...(ctx.subresource === "ephemeralcontainers" && this.strategy.ephemeralContainersUpdate
        ? this.strategy.ephemeralContainersUpdate.validate(next, old)
        : this.strategy.validateUpdate(next, old)),
    ];
    if (errs.length > 0) throw invalid(this.resource.kind, this.resource.group, name, errs);
    await this.admission("validate", "UPDATE", namespace, requestName, next, old, adm.ctx, adm.subresource);

    if (next.metadata.deletionTimestamp !== undefined && this.finalizedDuringUpdate(next)) return DELETE;
    // A no-op update is detected by the storage (same bytes as stored) and not written.
    return next;
  }

  /** upstream shouldDeleteDuringUpdate: no finalizers left and a zero grace period. */
  private finalizedDuringUpdate(obj: KubeObject): boolean {
    if ((obj.metadata.finalizers ?? []).length > 0) return false;
    if (this.strategy.shouldDeleteDuringUpdate) return this.strategy.shouldDeleteDuringUpdate(obj);
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /** What a delete does to the current object (upstream BeforeDelete, with the strategy's delete rules). */
  private decideDelete(cur: Stored, opts: DeleteOptions): KubeObject | typeof DELETE | typeof NO_CHANGE {
    const old = cur.obj;
    const name = old.metadata.name ?? "";
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw conflict(
        this.qr,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ""}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== String(cur.rev))
      throw conflict(
        this.qr,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.rev}`,
      );

    const finalizers = deletionFinalizers(
      old.metadata.finalizers ?? [],
      opts,
      this.strategy.defaultGarbageCollectionPolicy ?? "DeleteDependents",
    );
    const finalizersChanged = !sameSet(finalizers, old.metadata.finalizers ?? []);

    const own = this.strategy.decideDelete?.(old, finalizers);
    if (own !== undefined) return own;

    // Graceful deletion: only kinds whose strategy asks for it (pods, while a kubelet may run them).
    const grace = this.strategy.gracePeriodSeconds?.(old, opts) ?? 0;

    if (old.metadata.deletionTimestamp !== undefined) {
      // Already being deleted: a shorter grace period may be requested (the kubelet sends 0).
      const current = old.metadata.deletionGracePeriodSeconds ?? 0;
      const shorter = opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < current;
      // upstream BeforeDelete's pendingGraceful: while a grace period runs, a delete that does not
      // shorten it changes nothing, finalizers included.
      if (!shorter && (!finalizersChanged || current > 0)) return NO_CHANGE;
      const newGrace = shorter ? (opts.gracePeriodSeconds as number) : current;
      if (newGrace === 0 && finalizers.length === 0) return DELETE;
      const next = clone(old);
      if (shorter) {
        next.metadata.deletionGracePeriodSeconds = newGrace;
        next.metadata.deletionTimestamp = timeIn(newGrace);
      }
      if (finalizers.length > 0) next.metadata.finalizers = finalizers;
      else delete next.metadata.finalizers;
      return next;
    }

    if (finalizers.length === 0 && grace === 0) return DELETE;
    const next = clone(old);
    next.metadata.deletionTimestamp = timeIn(grace);
    next.metadata.deletionGracePeriodSeconds = grace;
    if (finalizers.length > 0) next.metadata.finalizers = finalizers;
    if (next.metadata.generation !== undefined) next.metadata.generation += 1;
    return next;
  }

  // ------------------------------------------------------------------ filters

  private filterFor(opts: ListOptions): ((obj: KubeObject) => boolean) | undefined {
    const labels = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
    const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector) : undefined;
    if (fields && !fields.empty) {
      const supported = this.selectableFieldNames();
      if (supported) {
        for (const req of fields.requirements) {
          if (!supported.has(req.field)) {
            const list = [...supported].map((f) => `"${f}"`).join(", ");
            throw badRequest(`"${req.field}" is not a known field selector: only ${list}`);
          }
        }
      }
    }
    const useLabels = labels && !labels.empty ? labels : undefined;
    const useFields = fields && !fields.empty ? fields : undefined;
    if (!useLabels && !useFields) return undefined;
    return (obj) => {
      if (useLabels && !useLabels.matches(obj.metadata.labels)) return false;
      if (useFields && !useFields.matches(this.fieldsOf(obj))) return false;
      return true;
    };
  }

  /** Selectable fields per object; objects are immutable once stored, and shared by watchers. */
  private readonly fieldsMemo = new WeakMap<KubeObject, Record<string, string>>();

  private fieldsOf(obj: KubeObject): Record<string, string> {
    const memo = this.fieldsMemo.get(obj);
    if (memo) return memo;
    const fields = this.computeFields(obj);
    this.fieldsMemo.set(obj, fields);
    return fields;
  }

  private computeFields(obj: KubeObject): Record<string, string> {
    let extra: Record<string, string> = {};
    try {
      extra = this.strategy.selectableFields(obj);
    } catch (err) {
      this.log.warn({ err, name: obj.metadata.name }, "selectableFields failed");
    }
    const fields: Record<string, string> = { ...extra, "metadata.name": obj.metadata.name ?? "" };
    if (this.resource.namespaced) fields["metadata.namespace"] = obj.metadata.namespace ?? "";
    return fields;
  }

  /** Field names the strategy offers (probed once on an empty object); null when unknown. */
  private selectableFieldNames(): Set<string> | null {
    if (this.supportedFields !== undefined) return this.supportedFields;
    try {
      const sample = {
        apiVersion: apiVersionOf(this.resource),
        kind: this.resource.kind,
        metadata: { name: "", namespace: "" },
        spec: {},
        status: {},
      } as KubeObject;
      this.supportedFields = new Set([
        "metadata.name",
        "metadata.namespace",
        ...Object.keys(this.strategy.selectableFields(sample)),
      ]);
    } catch {
      this.supportedFields = null;
    }
    return this.supportedFields;
  }
}

/**
 * The finalizers an object has after a delete with opts (upstream
 * deletionFinalizersForGarbageCollection with shouldOrphanDependents / shouldDeleteDependents):
 * both garbage-collector finalizers are taken off, then `orphan` is added back when the request
 * (orphanDependents, or propagationPolicy Orphan), else the object's own finalizers, else the
 * kind's default say so, and `foregroundDeletion` when the request or the object's finalizers say
 * Foreground. Kinds whose policy is Unsupported keep their finalizers as they are.
 */
export function deletionFinalizers(
  current: readonly string[],
  opts: Pick<DeleteOptions, "orphanDependents" | "propagationPolicy">,
  defaultPolicy: GarbageCollectionPolicy,
): string[] {
  if (defaultPolicy === "Unsupported") return [...current];
  const fromObject = (): "orphan" | "foreground" | undefined => {
    for (const f of current) {
      if (f === FINALIZER_ORPHAN) return "orphan";
      if (f === FINALIZER_FOREGROUND) return "foreground";
    }
    return undefined;
  };
  let orphan: boolean;
  let foreground: boolean;
  if (opts.orphanDependents !== undefined) {
    orphan = opts.orphanDependents;
    foreground = false;
  } else if (opts.propagationPolicy !== undefined) {
    orphan = opts.propagationPolicy === "Orphan";
    foreground = opts.propagationPolicy === "Foreground";
  } else {
    const own = fromObject();
    orphan = own === "orphan" || (own === undefined && defaultPolicy === "OrphanDependents");
    foreground = own === "foreground";
  }
  const next = current.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
  if (orphan) next.push(FINALIZER_ORPHAN);
  if (foreground) next.push(FINALIZER_FOREGROUND);
  // An unchanged set keeps its order (upstream returns the object's own list).
  return sameSet(next, current) ? [...current] : next;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  const sb = new Set(b);
  return sa.size === sb.size && [...sa].every((x) => sb.has(x));
}
