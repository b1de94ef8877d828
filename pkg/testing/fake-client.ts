// FakeClient: an ApiClient that keeps objects in memory (client-go's fake clientset), for unit
// tests of anything that takes an ApiClient: get, list and watch (field selectors on any dotted
// path, label selectors, resourceVersion replay) so real Informers run on it, create, update
// (status subresource included, resourceVersion conflicts), JSON merge patch, delete. Other patch
// types are refused with 415 UnsupportedMediaType (what the API server answers a strategic merge
// patch of a custom resource), so clients take their merge-patch fallback. Every call is recorded in `actions`. It
// never opens a connection.

import { alreadyExists, conflict, invalid, notFound, type Status, unsupportedMediaType } from "../api/errors.js";
import { parseFieldSelector } from "../api/fields.js";
import { keyFor } from "../api/keys.js";
import { parseLabelSelector } from "../api/labels.js";
import type { DeleteOptions, KubeList, KubeObject, ListOptions, WatchEvent } from "../api/meta.js";
import type { ResourceInfo, ResourceType } from "../api/resources.js";
import { metaTime } from "../api/time.js";
import {
  ApiClient,
  type CreateOptions,
  type PatchType,
  type RawResponse,
  type WatchOptions,
} from "../client/client.js";

export interface Action {
  verb: "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** A copy of the object sent (create, update). */
  object?: KubeObject;
  /** patch: what was sent, and as what. */
  patch?: unknown;
  patchType?: PatchType;
  /** delete: the options sent. */
  options?: DeleteOptions;
}

interface Stored {
  resource: string;
  object: KubeObject;
}

interface Change {
  rv: number;
  resource: string;
  event: WatchEvent<KubeObject>;
}

interface Watcher {
  accept(c: Change): void;
}

const resourceId = (r: ResourceInfo) => (r.group ? `${r.resource}.${r.group}` : r.resource);

/** fieldValue: a dotted path of the object as a field selector sees it ("" when absent). */
function fieldValue(obj: KubeObject, path: string): string {
  let v: unknown = obj;
  for (const part of path.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  return v === undefined || v === null ? "" : String(v);
}

function selects(opts: ListOptions | undefined): (obj: KubeObject) => boolean {
  const fields = parseFieldSelector(opts?.fieldSelector ?? "");
  const labels = parseLabelSelector(opts?.labelSelector ?? "");
  return (obj) =>
    labels.matches(obj.metadata.labels ?? {}) &&
    fields.matches(Object.fromEntries(fields.requirements.map((r) => [r.field, fieldValue(obj, r.field)])));
}

/** RFC 7386 JSON merge patch: objects merge, null deletes, everything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? (target as Record<string, unknown>) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeClient extends ApiClient {
  readonly actions: Action[] = [];
  readonly #objects = new Map<string, Stored>();
  readonly #history: Change[] = [];
  readonly #watchers = new Set<Watcher>();
  #rv = 0;
  #closed = false;

  constructor() {
    super({ server: "http://fake.invalid" });
  }

  /** seed stores objects as they are (no action recorded), with a resourceVersion if they lack one. */
  seed(r: ResourceInfo, ...objs: KubeObject[]): void {
    for (const obj of objs) this.#put(r, structuredClone(obj), "ADDED");
  }

  /** The stored object (a copy), or undefined. */
  object<T extends KubeObject = KubeObject>(r: ResourceInfo, ns: string | undefined, name: string): T | undefined {
    const s = this.#objects.get(this.#key(r, ns, name));
    return s ? (structuredClone(s.object) as T) : undefined;
  }

  /** The recorded actions of one verb (and resource). */
  actionsOf(verb: Action["verb"], r?: ResourceInfo): Action[] {
    return this.actions.filter((a) => a.verb === verb && (!r || a.resource === resourceId(r)));
  }

  override get closed(): boolean {
    return this.#closed;
  }

  override async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#watchers)
      w.accept({ rv: this.#rv, resource: "", event: { type: "BOOKMARK", object: {} as KubeObject } });
  }

  override async request(method: string, path: string): Promise<RawResponse> {
    throw new Error(`FakeClient: no raw requests (${method} ${path})`);
  }

  override async get<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    opts: { subresource?: string } = {},
  ): Promise<T> {
    this.#record({ verb: "get", resource: resourceId(r), namespace: ns, name, subresource: opts.subresource });
    const obj = this.object<T>(r, ns, name);
    if (!obj) throw notFound(r, name);
    return obj;
  }

  override async list<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    opts?: ListOptions,
  ): Promise<KubeList<T>> {
    this.#record({ verb: "list", resource: resourceId(r), namespace: ns });
    const match = selects(opts);
    const items = [...this.#objects.values()]
      .filter((s) => s.resource === resourceId(r) && (!ns || s.object.metadata.namespace === ns) && match(s.object))
      .map((s) => structuredClone(s.object) as T);
    return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: String(this.#rv) }, items };
  }

  override async create<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: object,
    opts: CreateOptions = {},
  ): Promise<T> {
    const o = structuredClone(obj) as KubeObject;
    const namespace = r.namespaced ? (ns ?? o.metadata.namespace) : undefined;
    o.metadata = { ...o.metadata, ...(namespace ? { namespace } : {}) };
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = `${o.metadata.generateName}${this.#rv + 1}`;
    if (opts.subresource) {
      // pods/<name>/binding, serviceaccounts/<name>/token...: the parent's name is in the URL.
      this.#record({
        verb: "create",
        resource: resourceId(r),
        namespace,
        name: opts.name ?? o.metadata.name,
        subresource: opts.subresource,
        object: o,
      });
      return structuredClone(o) as T;
    }
    this.#record({ verb: "create", resource: resourceId(r), namespace, name: o.metadata.name, object: o });
    const name = o.metadata.name ?? "";
    if (this.#objects.has(this.#key(r, namespace, name))) throw alreadyExists(r, name);
    o.metadata.uid ??= `uid-${name}-${this.#rv + 1}`;
    o.metadata.creationTimestamp ??= metaTime(0);
    return structuredClone(this.#put(r, o, "ADDED")) as T;
  }

  override async update<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: T,
    opts: { subresource?: string } = {},
  ): Promise<T> {
    const namespace = r.namespaced ? (ns ?? obj.metadata.namespace) : undefined;
    const name = obj.metadata.name ?? "";
    this.#record({
      verb: "update",
      resource: resourceId(r),
      namespace,
      name,
      subresource: opts.subresource,
      object: structuredClone(obj),
    });
    const cur = this.#objects.get(this.#key(r, namespace, name))?.object;
    if (!cur) throw notFound(r, name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion)
      throw conflict(
        r,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    const next: KubeObject =
      opts.subresource === "status"
        ? { ...structuredClone(cur), status: structuredClone(obj.status) }
        : { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), uid: cur.metadata.uid } };
    return structuredClone(this.#put(r, next, "MODIFIED")) as T;
  }

  override async patch<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    opts: { subresource?: string } = {},
  ): Promise<T> {
    const body = typeof patch === "string" ? (JSON.parse(patch) as unknown) : structuredClone(patch);
    const namespace = r.namespaced ? ns : undefined;
    this.#record({
      verb: "patch",
      resource: resourceId(r),
      namespace,
      name,
      subresource: opts.subresource,
      patch: body,
      patchType: type,
    });
    if (type !== "merge")
      throw unsupportedMediaType(
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    const cur = this.#objects.get(this.#key(r, namespace, name))?.object;
    if (!cur) throw notFound(r, name);
    const next = mergePatch(structuredClone(cur), body) as KubeObject;
    const rv = next.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion)
      throw conflict(
        r,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    if (next.metadata?.uid !== cur.metadata.uid)
      throw invalid(r.kind, r.group, name, [
        { field: "metadata.uid", type: "FieldValueInvalid", message: "field is immutable" },
      ]);
    return structuredClone(this.#put(r, next, "MODIFIED")) as T;
  }

  override async delete<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    opts?: DeleteOptions,
  ): Promise<T | Status> {
    this.#record({
      verb: "delete",
      resource: resourceId(r),
      namespace: ns,
      name,
      ...(opts ? { options: structuredClone(opts) } : {}),
    });
    const key = this.#key(r, ns, name);
    const cur = this.#objects.get(key)?.object;
    if (!cur) throw notFound(r, name);
    const uid = opts?.preconditions?.uid;
    if (uid && uid !== cur.metadata.uid) throw conflict(r, name, `Precondition failed: UID in precondition: ${uid}`);
    const rv = opts?.preconditions?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion)
      throw conflict(r, name, `Precondition failed: ResourceVersion in precondition: ${rv}`);
    this.#objects.delete(key);
    this.#emit(resourceId(r), "DELETED", {
      ...cur,
      metadata: { ...cur.metadata, resourceVersion: String(++this.#rv) },
    });
    return structuredClone(cur) as T;
  }

  override async *watch<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    opts: ListOptions,
    signalOrOptions?: AbortSignal | WatchOptions,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const signal = signalOrOptions instanceof AbortSignal ? signalOrOptions : signalOrOptions?.signal;
    this.#record({ verb: "watch", resource: resourceId(r), namespace: ns });
    const match = selects(opts);
    const wanted = (c: Change) =>
      c.resource === resourceId(r) && (!ns || c.event.object.metadata.namespace === ns) && match(c.event.object);
    const since = Number(opts.resourceVersion ?? this.#rv);
    const queue = this.#history.filter((c) => c.rv > since && wanted(c)).map((c) => c.event);
    let wake: (() => void) | undefined;
    const watcher: Watcher = {
      accept: (c) => {
        if (wanted(c)) queue.push(c.event);
        wake?.();
      },
    };
    const onAbort = () => wake?.();
    this.#watchers.add(watcher);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal?.aborted && !this.#closed) {
        const ev = queue.shift();
        if (ev) {
          yield structuredClone(ev) as WatchEvent<T>;
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
    } finally {
      this.#watchers.delete(watcher);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  #key(r: ResourceInfo, ns: string | undefined, name: string): string {
    return `${resourceId(r)}|${keyFor(r.namespaced ? ns : undefined, name)}`;
  }

  #record(a: Action): void {
    this.actions.push(Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as unknown as Action);
  }

  #put(r: ResourceInfo, obj: KubeObject, type: "ADDED" | "MODIFIED"): KubeObject {
    obj.metadata.resourceVersion = String(++this.#rv);
    this.#objects.set(this.#key(r, obj.metadata.namespace, obj.metadata.name ?? ""), {
      resource: resourceId(r),
      object: obj,
    });
    this.#emit(resourceId(r), type, obj);
    return obj;
  }

  #emit(resource: string, type: WatchEvent["type"], obj: KubeObject): void {
    const change: Change = { rv: this.#rv, resource, event: { type, object: structuredClone(obj) } };
    this.#history.push(change);
    for (const w of this.#watchers) w.accept(change);
  }
}
