// The generic registry store (upstream: apiserver/pkg/registry/generic/registry/store.go): CRUD
// on one resource with the metadata rules every kind shares (names, uid, timestamps,
// resourceVersion concurrency, finalizers, graceful deletion) and the per-kind rules delegated to
// its Strategy. Reads of resourceVersion=0 and all watches go to the watch cache; everything else
// reads etcd. The Store takes ownership of the objects passed in (it may mutate them) and returns
// objects that callers must not mutate (they may be shared with the watch cache).

import { randomInt, randomUUID } from "node:crypto";
import {
  badRequest,
  conflict,
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldRequired,
  invalid,
  isAlreadyExists,
  isNotFound,
  notFound,
  type Status,
  StatusError,
} from "#pkg/api/errors.js";
import { parseFieldSelector } from "#pkg/api/fields.js";
import { type LabelSelectorLike, parseLabelSelector, selectorFromLabelSelector } from "#pkg/api/labels.js";
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
import {
  type NameValidator,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from "#pkg/api/validation.js";
import type { Logger } from "#pkg/runtime/log.js";
import { applyPatch, applyServerSide } from "../patch/index.js";
import { encodeObject } from "../storage/codec.js";
import {
  CONFLICT_MESSAGE,
  DELETE,
  NO_CHANGE,
  type ObjectRef,
  type Storage,
  type Stored,
} from "../storage/interfaces.js";
import type { ResourceCache, WatchCache } from "../storage/watch-cache.js";
import type { ServiceAllocator, ServicePortLike } from "./allocators.js";
import {
  IMMORTAL_NAMESPACES,
  immortalNamespaceError,
  isTerminating,
  markTerminating,
  namespaceFinalized,
  prepareNamespaceForCreate,
  terminatingNamespaceError,
} from "./namespaces.js";
import type { Strategy } from "./strategy.js";

export interface RequestContext {
  user?: string;
  /** ?dryRun=All: run everything, store nothing. */
  dryRun?: boolean;
  fieldManager?: string;
  /** The HTTP layer does unknown-field checks; passed for information. */
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export type PatchKind = "merge" | "json" | "strategic" | "apply";

/** Subresources that write through update/patch: status, and a namespace's finalize. */
export type WriteSubresource = "status" | "finalize";

export interface StoreDeps {
  resource: ResourceInfo;
  strategy: Strategy;
  storage: Storage;
  watchCache: WatchCache;
  /** Looks a namespace up (watch cache first, then etcd); undefined when missing. */
  getNamespace: (name: string) => Promise<KubeObject | undefined>;
  /** Only for services. */
  allocator?: ServiceAllocator | undefined;
  /** Objects expire this long after their last write (events: --event-ttl). */
  ttlSeconds?: number | undefined;
  /** Told the revision of every write this store makes (the registry tracks namespace writes). */
  onWrite?: ((rev: number) => void) | undefined;
  log: Logger;
}

/** Upstream's generateName suffix alphabet (no vowels, no confusable digits). */
const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789";

export function generateNameSuffix(): string {
  let s = "";
  for (let i = 0; i < 5; i++) s += NAME_CHARS[randomInt(NAME_CHARS.length)];
  return s;
}

/** RFC 3339 with second precision, as metav1.Time marshals. */
export function nowRFC3339(offsetSeconds = 0): string {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000).toISOString().replace(".000Z", "Z");
}

/** Kinds that may be created by PUT (upstream AllowCreateOnUpdate). */
const CREATE_ON_UPDATE = new Set(["events", "endpoints", "leases"]);

interface PodShape {
  spec?: { nodeName?: string; terminationGracePeriodSeconds?: number };
  status?: { phase?: string; conditions?: Array<Record<string, unknown>> };
}

interface ServiceShape {
  spec?: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    ports?: ServicePortLike[];
  };
}

interface ScalableShape {
  spec?: { replicas?: number; selector?: LabelSelectorLike };
  status?: { replicas?: number };
}

/** Allocations made during one service write, released again if they end up unused. */
interface AllocationTracker {
  ips: string[];
  ports: number[];
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function ownerKey(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

function usesNodePorts(type: string | undefined): boolean {
  return type === "NodePort" || type === "LoadBalancer";
}

function serviceIPs(obj: KubeObject | undefined): string[] {
  const spec = (obj as ServiceShape | undefined)?.spec;
  if (!spec) return [];
  const ips = new Set<string>();
  if (spec.clusterIP && spec.clusterIP !== "None") ips.add(spec.clusterIP);
  for (const ip of spec.clusterIPs ?? []) if (ip && ip !== "None") ips.add(ip);
  return [...ips];
}

function serviceNodePorts(obj: KubeObject | undefined): number[] {
  const spec = (obj as ServiceShape | undefined)?.spec;
  return (spec?.ports ?? []).map((p) => p.nodePort ?? 0).filter((p) => p > 0);
}

export class Store {
  readonly resource: ResourceInfo;
  readonly strategy: Strategy;
  private readonly storage: Storage;
  private readonly watchCache: WatchCache;
  private readonly cache: ResourceCache;
  private readonly deps: StoreDeps;
  private readonly log: Logger;
  private readonly qr: { group: string; resource: string };
  private readonly nameFn: NameValidator;
  private supportedFields: Set<string> | undefined | null;

  constructor(deps: StoreDeps) {
    this.deps = deps;
    this.resource = deps.resource;
    this.strategy = deps.strategy;
    this.storage = deps.storage;
    this.watchCache = deps.watchCache;
    this.cache = deps.watchCache.for(deps.resource);
    this.log = deps.log.child({ resource: deps.resource.resource });
    this.qr = { group: deps.resource.group, resource: deps.resource.resource };
    // Upstream name rules: namespaces are DNS labels, services DNS-1035 labels, the rest subdomains.
    const r = deps.resource.resource;
    this.nameFn = r === "namespaces" ? nameIsDNSLabel : r === "services" ? nameIsDNS1035Label : nameIsDNSSubdomain;
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
    this.checkTypeMeta(obj);
    obj.metadata ??= {};
    if (obj.metadata.resourceVersion) throw badRequest("resourceVersion should not be set on objects to be created");
    const generated = !obj.metadata.name && !!obj.metadata.generateName;
    // Strategies mutate what they prepare: a retry with another generated name starts afresh.
    const pristine = generated ? clone(obj) : undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0 && pristine) obj = clone(pristine);
      if (generated) obj.metadata.name = `${obj.metadata.generateName}${generateNameSuffix()}`;
      const name = obj.metadata.name ?? "";
      await this.prepareCreate(namespace, obj);
      const tracker: AllocationTracker = { ips: [], ports: [] };
      try {
        await this.allocateForCreate(namespace, obj, tracker, ctx);
        if (ctx.dryRun) {
          encodeObject(this.ref(namespace, name), obj);
          await this.release(tracker);
          return obj;
        }
        const stored = await this.storage.create(this.ref(namespace, name), obj, { ttlSeconds: this.deps.ttlSeconds });
        this.deps.onWrite?.(stored.rev);
        this.log.debug({ namespace, name }, "created");
        return stored.obj;
      } catch (err) {
        await this.release(tracker);
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
    this.checkTypeMeta(obj);
    obj.metadata ??= {};
    if (obj.metadata.name !== undefined && obj.metadata.name !== name)
      throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
    obj.metadata.name = name;
    this.checkNamespace(namespace, obj);
    const tracker: AllocationTracker = { ips: [], ports: [] };
    const allowCreate = !ctx.subresource && CREATE_ON_UPDATE.has(this.resource.resource);
    let previous: KubeObject | undefined;
    try {
      const res = await this.storage.guaranteedUpdate(
        this.ref(namespace, name),
        async (cur) => {
          previous = cur?.obj;
          const next = clone(obj);
          if (!cur) {
            if (next.metadata.resourceVersion) throw notFound(this.qr, name);
            await this.prepareCreate(namespace, next);
            await this.allocateForCreate(namespace, next, tracker, ctx);
            return next;
          }
          const rv = next.metadata.resourceVersion;
          if (rv && rv !== String(cur.rev)) throw conflict(this.qr, name, CONFLICT_MESSAGE);
          return this.prepareUpdate(namespace, next, cur, ctx, tracker);
        },
        {
          allowCreate,
          dryRun: ctx.dryRun === true,
          ttlSeconds: this.deps.ttlSeconds,
          suggestion: this.suggestion(namespace, name),
        },
      );
      await this.afterWrite(res, previous, tracker, ctx);
      return { object: res.obj, created: res.created };
    } catch (err) {
      await this.release(tracker);
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
    const tracker: AllocationTracker = { ips: [], ports: [] };
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
              next.apiVersion ??= apiVersionOf(this.resource);
              next.kind ??= this.resource.kind;
              this.checkTypeMeta(next);
              next.metadata.name = name;
              this.checkNamespace(namespace, next);
              delete next.metadata.resourceVersion;
              await this.prepareCreate(namespace, next);
              await this.allocateForCreate(namespace, next, tracker, ctx);
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
          this.checkTypeMeta(next);
          if (next.metadata.name !== name) throw badRequest("metadata.name: the name may not be changed by a patch");
          this.checkNamespace(namespace, next);
          return this.prepareUpdate(namespace, next, c, ctx, tracker);
        },
        {
          allowCreate: kind === "apply",
          dryRun: ctx.dryRun === true,
          ttlSeconds: this.deps.ttlSeconds,
          suggestion: this.suggestion(namespace, name),
        },
      );
      await this.afterWrite(res, previous, tracker, ctx);
      return { object: res.obj, created: res.created };
    } catch (err) {
      await this.release(tracker);
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
    if (this.resource.resource === "namespaces" && IMMORTAL_NAMESPACES.has(name)) throw immortalNamespaceError(name);
    const dryRun = ctx.dryRun === true || (opts.dryRun ?? []).includes("All");
    if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 0;
    const res = await this.storage.guaranteedUpdate(
      this.ref(namespace, name),
      (cur) => this.decideDelete(cur as Stored, opts),
      { dryRun, suggestion: this.suggestion(namespace, name) },
    );
    if (res.written) this.deps.onWrite?.(res.rev);
    if (res.deleted && !dryRun) {
      await this.releaseAll(res.obj);
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
    this.requireScale();
    return this.toScale(await this.get(ns, name));
  }

  async updateScale(ns: string, name: string, scale: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    this.requireScale();
    const replicas = (scale as ScalableShape).spec?.replicas;
    const rv = scale.metadata?.resourceVersion;
    return this.writeScale(ns, name, ctx, () => ({ replicas, rv }));
  }

  async patchScale(
    ns: string,
    name: string,
    kind: PatchKind,
    patch: unknown,
    ctx: RequestContext,
  ): Promise<KubeObject> {
    this.requireScale();
    if (kind === "apply") throw badRequest("apply patches are not supported on the scale subresource");
    return this.writeScale(ns, name, ctx, (cur) => {
      const patched = applyPatch(kind, this.toScale(cur), patch) as KubeObject & ScalableShape;
      return { replicas: patched.spec?.replicas, rv: patched.metadata?.resourceVersion };
    });
  }

  /** pods/binding: sets spec.nodeName once (upstream BindingREST.assignPod). */
  async bind(ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    if (this.resource.resource !== "pods") throw badRequest(`${this.resource.resource} have no binding subresource`);
    const target = (binding as { target?: { name?: string; kind?: string } }).target;
    const nodeName = target?.name ?? "";
    if (!nodeName) throw invalid("Binding", "", name, [fieldRequired("target.name")]);
    if (target?.kind && target.kind !== "Node")
      throw invalid("Binding", "", name, [fieldInvalid("target.kind", target.kind, 'must be empty or "Node"')]);
    const precondUid = binding.metadata?.uid;
    await this.storage.guaranteedUpdate(
      this.ref(ns, name),
      (cur) => {
        const pod = clone((cur as Stored).obj) as KubeObject & PodShape;
        if (precondUid && pod.metadata.uid !== precondUid)
          throw conflict(
            this.qr,
            name,
            `Precondition failed: UID in precondition: ${precondUid}, UID in object meta: ${pod.metadata.uid ?? ""}`,
          );
        if (pod.metadata.deletionTimestamp)
          throw conflict(this.qr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        if (pod.spec?.nodeName)
          throw conflict(this.qr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
        pod.spec = { ...(pod.spec ?? {}), nodeName };
        const annotations = binding.metadata?.annotations;
        if (annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
        pod.status ??= {};
        const status = pod.status;
        const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
        conditions.push({
          type: "PodScheduled",
          status: "True",
          lastProbeTime: null,
          lastTransitionTime: nowRFC3339(),
        });
        status.conditions = conditions;
        return pod;
      },
      { dryRun: ctx.dryRun === true, suggestion: this.suggestion(ns, name) },
    );
    this.log.debug({ namespace: ns, name, node: nodeName }, "bound");
    const ok: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
    return ok as unknown as KubeObject;
  }

  // ------------------------------------------------------------------ internals

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

  private checkTypeMeta(obj: KubeObject): void {
    if (typeof obj !== "object" || obj === null || Array.isArray(obj))
      throw badRequest("the body must be a JSON object");
    const want = apiVersionOf(this.resource);
    if (obj.apiVersion === undefined) obj.apiVersion = want;
    if (obj.kind === undefined) obj.kind = this.resource.kind;
    if (obj.apiVersion !== want)
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`,
      );
    if (obj.kind !== this.resource.kind)
      throw badRequest(
        `${String(obj.kind)} in version "${this.resource.version}" cannot be handled as a ${this.resource.kind}`,
      );
  }

  /** The object's namespace must agree with the request's; cluster-scoped objects have none. */
  private checkNamespace(namespace: string | undefined, obj: KubeObject): void {
    if (!this.resource.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (!namespace) throw badRequest("a namespace is required for a namespaced resource");
    if (obj.metadata.namespace && obj.metadata.namespace !== namespace)
      throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
    obj.metadata.namespace = namespace;
  }

  /** NamespaceLifecycle: the namespace must exist and not be terminating. */
  private async admitNamespace(namespace: string, name: string): Promise<void> {
    const ns = await this.deps.getNamespace(namespace);
    if (!ns) throw notFound({ group: "", resource: "namespaces" }, namespace);
    if (isTerminating(ns)) throw terminatingNamespaceError(this.qr, name, namespace);
  }

  /** Everything a new object goes through before it is stored (upstream BeforeCreate). */
  private async prepareCreate(namespace: string | undefined, obj: KubeObject): Promise<void> {
    this.checkNamespace(namespace, obj);
    const meta = obj.metadata;
    const name = meta.name ?? "";
    if (this.resource.namespaced && namespace && name && this.resource.resource !== "namespaces")
      await this.admitNamespace(namespace, name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    meta.generation = 1;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    this.strategy.applyDefaults(obj);
    this.strategy.prepareForCreate(obj);
    if (this.resource.resource === "namespaces") prepareNamespaceForCreate(obj);
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
    tracker: AllocationTracker,
  ): Promise<KubeObject | typeof DELETE | typeof NO_CHANGE> {
    const old = cur.obj;
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
    if (ctx.subresource === "status") {
      this.strategy.prepareForStatusUpdate(next, old);
    } else if (ctx.subresource === "finalize") {
      // namespaces/finalize changes spec.finalizers and nothing else.
      const finalizers = (next as { spec?: { finalizers?: string[] } }).spec?.finalizers;
      const kept = clone(old) as KubeObject & { spec?: { finalizers?: string[] } };
      kept.spec = { ...(kept.spec ?? {}), finalizers: finalizers ?? [] };
      next = kept;
    } else {
      this.strategy.prepareForUpdate(next, old);
      if (this.resource.resource === "services") await this.allocateForUpdate(namespace, next, old, tracker, ctx);
    }
    const name = next.metadata.name ?? "";
    const errs: FieldError[] = [
      ...validateObjectMetaUpdate(next.metadata, oldMeta),
      ...validateObjectMeta(next.metadata, this.resource.namespaced, "metadata", this.nameFn),
      ...this.strategy.validateUpdate(next, old),
    ];
    if (errs.length > 0) throw invalid(this.resource.kind, this.resource.group, name, errs);

    if (next.metadata.deletionTimestamp !== undefined && this.finalizedDuringUpdate(next)) return DELETE;
    // A no-op update is detected by the storage (same bytes as stored) and not written.
    return next;
  }

  /** upstream shouldDeleteDuringUpdate: no finalizers left and a zero grace period. */
  private finalizedDuringUpdate(obj: KubeObject): boolean {
    if ((obj.metadata.finalizers ?? []).length > 0) return false;
    if (this.resource.resource === "namespaces") return namespaceFinalized(obj);
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  /** What a delete does to the current object (upstream BeforeDelete + the pod/namespace rules). */
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

    const finalizers = [...(old.metadata.finalizers ?? [])];
    const policy = opts.propagationPolicy;
    const addFinalizer = (f: string) => {
      if (!finalizers.includes(f)) finalizers.push(f);
    };
    const dropFinalizer = (f: string) => {
      const i = finalizers.indexOf(f);
      if (i >= 0) finalizers.splice(i, 1);
    };
    if (policy === "Orphan") {
      addFinalizer(FINALIZER_ORPHAN);
      dropFinalizer(FINALIZER_FOREGROUND);
    } else if (policy === "Foreground") {
      addFinalizer(FINALIZER_FOREGROUND);
      dropFinalizer(FINALIZER_ORPHAN);
    } else if (policy === "Background") {
      dropFinalizer(FINALIZER_ORPHAN);
      dropFinalizer(FINALIZER_FOREGROUND);
    }
    const finalizersChanged = finalizers.join("\u0000") !== (old.metadata.finalizers ?? []).join("\u0000");

    if (this.resource.resource === "namespaces") {
      if (old.metadata.deletionTimestamp !== undefined) {
        if (namespaceFinalized(old)) return DELETE;
        return NO_CHANGE;
      }
      const spec = (old as { spec?: { finalizers?: string[] } }).spec;
      if ((spec?.finalizers ?? []).length === 0 && finalizers.length === 0) return DELETE;
      const next = markTerminating(old, nowRFC3339());
      if (finalizers.length > 0) next.metadata.finalizers = finalizers;
      return next;
    }

    // Graceful deletion: only pods, and only while a kubelet may still be running them.
    let grace = 0;
    if (this.resource.resource === "pods") {
      const pod = old as KubeObject & PodShape;
      const phase = pod.status?.phase;
      grace = opts.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      if (!pod.spec?.nodeName || phase === "Succeeded" || phase === "Failed") grace = 0;
    }

    if (old.metadata.deletionTimestamp !== undefined) {
      // Already being deleted: a shorter grace period may be requested (the kubelet sends 0).
      const current = old.metadata.deletionGracePeriodSeconds ?? 0;
      const shorter = opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < current;
      if (!shorter && !finalizersChanged) return NO_CHANGE;
      const newGrace = shorter ? (opts.gracePeriodSeconds as number) : current;
      if (newGrace === 0 && finalizers.length === 0) return DELETE;
      const next = clone(old);
      if (shorter) {
        next.metadata.deletionGracePeriodSeconds = newGrace;
        next.metadata.deletionTimestamp = nowRFC3339(newGrace);
      }
      if (finalizers.length > 0) next.metadata.finalizers = finalizers;
      else delete next.metadata.finalizers;
      return next;
    }

    if (finalizers.length === 0 && grace === 0) return DELETE;
    const next = clone(old);
    next.metadata.deletionTimestamp = nowRFC3339(grace);
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

  // ------------------------------------------------------------------ scale

  private requireScale(): void {
    if (!this.resource.subresources.some((s) => s.name === "scale"))
      throw new StatusError(
        404,
        "NotFound",
        `the server could not find the requested resource (scale ${this.resource.resource})`,
      );
  }

  private toScale(obj: KubeObject): KubeObject {
    const o = obj as KubeObject & ScalableShape;
    let selector = "";
    if (o.spec?.selector) {
      try {
        selector = selectorFromLabelSelector(o.spec.selector).toString();
      } catch {
        selector = "";
      }
    }
    const metadata: KubeObject["metadata"] = { name: obj.metadata.name };
    if (obj.metadata.namespace) metadata.namespace = obj.metadata.namespace;
    if (obj.metadata.uid) metadata.uid = obj.metadata.uid;
    if (obj.metadata.resourceVersion) metadata.resourceVersion = obj.metadata.resourceVersion;
    if (obj.metadata.creationTimestamp) metadata.creationTimestamp = obj.metadata.creationTimestamp;
    return {
      apiVersion: "autoscaling/v1",
      kind: "Scale",
      metadata,
      spec: { replicas: o.spec?.replicas ?? 0 },
      status: { replicas: o.status?.replicas ?? 0, selector },
    };
  }

  private async writeScale(
    ns: string,
    name: string,
    ctx: RequestContext,
    compute: (cur: KubeObject) => { replicas: unknown; rv: string | undefined },
  ): Promise<KubeObject> {
    const res = await this.storage.guaranteedUpdate(
      this.ref(ns, name),
      (cur) => {
        const c = cur as Stored;
        const { replicas, rv } = compute(c.obj);
        if (rv && rv !== String(c.rev)) throw conflict(this.qr, name, CONFLICT_MESSAGE);
        if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)
          throw invalid("Scale", "autoscaling", name, [
            replicas === undefined
              ? fieldRequired("spec.replicas")
              : fieldInvalid("spec.replicas", replicas, "must be greater than or equal to 0"),
          ]);
        const next = clone(c.obj) as KubeObject & ScalableShape;
        next.spec = { ...(next.spec ?? {}), replicas };
        return this.prepareUpdate(ns, next, c, {}, { ips: [], ports: [] });
      },
      { dryRun: ctx.dryRun === true, suggestion: this.suggestion(ns, name) },
    );
    return this.toScale(res.obj);
  }

  // ------------------------------------------------------------------ services

  private async allocateForCreate(
    namespace: string | undefined,
    obj: KubeObject,
    tracker: AllocationTracker,
    ctx: RequestContext,
  ): Promise<void> {
    const alloc = this.deps.allocator;
    if (this.resource.resource !== "services" || !alloc) return;
    const svc = obj as KubeObject & ServiceShape;
    svc.spec ??= {};
    const spec = svc.spec;
    const name = obj.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    const type = spec.type ?? "ClusterIP";
    if (type !== "ExternalName") {
      let requested = spec.clusterIP || spec.clusterIPs?.[0] || undefined;
      if (requested === "None") {
        spec.clusterIP = "None";
        spec.clusterIPs = ["None"];
      } else {
        if (!requested && namespace === "default" && name === "kubernetes") requested = alloc.kubernetesServiceIP;
        const ip =
          ctx.dryRun && !requested
            ? alloc.kubernetesServiceIP
            : await this.allocIP(alloc, owner, name, requested, tracker, ctx);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      spec.ipFamilies ??= ["IPv4"];
      spec.ipFamilyPolicy ??= "SingleStack";
    }
    if (usesNodePorts(type)) {
      const ports = spec.ports ?? [];
      for (let i = 0; i < ports.length; i++) {
        const p = ports[i] as ServicePortLike;
        p.nodePort = await this.allocPort(
          alloc,
          owner,
          name,
          `spec.ports[${i}].nodePort`,
          p.nodePort || undefined,
          tracker,
          ctx,
        );
      }
    }
  }

  private async allocateForUpdate(
    namespace: string | undefined,
    next: KubeObject,
    old: KubeObject,
    tracker: AllocationTracker,
    ctx: RequestContext,
  ): Promise<void> {
    const alloc = this.deps.allocator;
    if (!alloc) return;
    const svc = next as KubeObject & ServiceShape;
    svc.spec ??= {};
    const spec = svc.spec;
    const oldSpec = (old as ServiceShape).spec ?? {};
    const name = next.metadata.name ?? "";
    const owner = ownerKey(namespace, name);
    const type = spec.type ?? "ClusterIP";
    if (type !== "ExternalName") {
      // A replace without clusterIP keeps the allocated one (upstream patchAllocatedValues).
      if (!spec.clusterIP && oldSpec.clusterIP) {
        spec.clusterIP = oldSpec.clusterIP;
        spec.clusterIPs = oldSpec.clusterIPs ?? [oldSpec.clusterIP];
      }
      if (oldSpec.clusterIP && spec.clusterIP !== oldSpec.clusterIP)
        throw invalid("Service", "", name, [
          fieldInvalid("spec.clusterIP", spec.clusterIP ?? "", "field is immutable"),
        ]);
      if (spec.clusterIPs && spec.clusterIP && spec.clusterIPs[0] !== spec.clusterIP)
        throw invalid("Service", "", name, [
          fieldInvalid("spec.clusterIPs[0]", spec.clusterIPs[0] ?? "", "must match `clusterIP`"),
        ]);
      if (!spec.clusterIP) {
        const ip = await this.allocIP(alloc, owner, name, undefined, tracker, ctx);
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      } else {
        spec.clusterIPs ??= [spec.clusterIP];
      }
      spec.ipFamilies ??= oldSpec.ipFamilies ?? ["IPv4"];
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy ?? "SingleStack";
    }
    const ports = spec.ports ?? [];
    if (!usesNodePorts(type)) {
      for (const p of ports) delete p.nodePort;
      return;
    }
    const oldPorts = usesNodePorts(oldSpec.type) ? (oldSpec.ports ?? []) : [];
    const oldSet = new Set(oldPorts.map((p) => p.nodePort ?? 0).filter((p) => p > 0));
    for (let i = 0; i < ports.length; i++) {
      const p = ports[i] as ServicePortLike;
      if (!p.nodePort) {
        const same =
          oldPorts.find(
            (o) => o.name !== undefined && o.name === p.name && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"),
          ) ?? oldPorts.find((o) => o.port === p.port && (o.protocol ?? "TCP") === (p.protocol ?? "TCP"));
        if (same?.nodePort) {
          p.nodePort = same.nodePort;
          continue;
        }
      } else if (oldSet.has(p.nodePort) || tracker.ports.includes(p.nodePort)) {
        continue;
      }
      p.nodePort = await this.allocPort(
        alloc,
        owner,
        name,
        `spec.ports[${i}].nodePort`,
        p.nodePort || undefined,
        tracker,
        ctx,
      );
    }
  }

  private async allocIP(
    alloc: ServiceAllocator,
    owner: string,
    name: string,
    requested: string | undefined,
    tracker: AllocationTracker,
    ctx: RequestContext,
  ): Promise<string> {
    if (requested && tracker.ips.includes(requested)) return requested;
    const ip = await alloc.allocateIP(owner, name, requested);
    tracker.ips.push(ip);
    if (ctx.dryRun) {
      await alloc.releaseIP(ip);
      tracker.ips.pop();
    }
    return ip;
  }

  private async allocPort(
    alloc: ServiceAllocator,
    owner: string,
    name: string,
    field: string,
    requested: number | undefined,
    tracker: AllocationTracker,
    ctx: RequestContext,
  ): Promise<number> {
    if (requested && tracker.ports.includes(requested)) return requested;
    const port = await alloc.allocateNodePort(owner, name, field, requested);
    tracker.ports.push(port);
    if (ctx.dryRun) {
      await alloc.releaseNodePort(port);
      tracker.ports.pop();
    }
    return port;
  }

  /** After an update/patch: free what the stored object no longer uses. */
  private async afterWrite(
    res: { obj: KubeObject; rev: number; written: boolean; deleted: boolean },
    previous: KubeObject | undefined,
    tracker: AllocationTracker,
    ctx: RequestContext,
  ): Promise<void> {
    if (res.written && !ctx.dryRun) this.deps.onWrite?.(res.rev);
    if (this.resource.resource !== "services" || !this.deps.allocator) return;
    const alloc = this.deps.allocator;
    if (ctx.dryRun || !res.written) {
      await this.release(tracker);
      return;
    }
    const keepIPs = new Set(res.deleted ? [] : serviceIPs(res.obj));
    const keepPorts = new Set(res.deleted ? [] : serviceNodePorts(res.obj));
    const ips = new Set([...tracker.ips, ...serviceIPs(previous)]);
    const ports = new Set([...tracker.ports, ...serviceNodePorts(previous)]);
    for (const ip of ips) if (!keepIPs.has(ip)) await alloc.releaseIP(ip);
    for (const p of ports) if (!keepPorts.has(p)) await alloc.releaseNodePort(p);
  }

  private async release(tracker: AllocationTracker): Promise<void> {
    const alloc = this.deps.allocator;
    if (!alloc) return;
    for (const ip of tracker.ips.splice(0)) await alloc.releaseIP(ip).catch(() => undefined);
    for (const p of tracker.ports.splice(0)) await alloc.releaseNodePort(p).catch(() => undefined);
  }

  private async releaseAll(obj: KubeObject): Promise<void> {
    const alloc = this.deps.allocator;
    if (this.resource.resource !== "services" || !alloc) return;
    for (const ip of serviceIPs(obj)) await alloc.releaseIP(ip);
    for (const p of serviceNodePorts(obj)) await alloc.releaseNodePort(p);
  }
}
