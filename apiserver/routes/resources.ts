// The generic REST handler: every resource of BUILTIN_RESOURCES, every verb, mapped onto the
// Store (upstream: staging/src/k8s.io/apiserver/pkg/endpoints/handlers). One handler serves
// all kinds; a kind's specifics live in its Strategy. Bodies are checked here for what the
// HTTP layer owns (decoding, unknown fields per ?fieldValidation); the store checks the object
// against the request (kind, apiVersion, namespace, name) and validates it.

import type { FastifyReply, FastifyRequest } from "fastify";
import { badRequest, methodNotAllowed, StatusError } from "#pkg/api/errors.js";
import type { KubeList, KubeObject, ListMeta } from "#pkg/api/meta.js";
import { apiVersionOf, isCreateOnly, PODDISRUPTIONBUDGETS, type ResourceInfo } from "#pkg/api/resources.js";
import { decodeObject, decodeOptional, decodePatch } from "../http/body.js";
import { negotiate, tableContentType } from "../http/negotiate.js";
import type { ApiTarget } from "../http/path.js";
import { protobufUnknownFields, serialize } from "../http/protobuf.js";
import {
  deleteOptions,
  isWatch,
  lenientBool,
  listOptions,
  type Query,
  type WriteParams,
  writeParams,
} from "../http/query.js";
import { deletedStatus, successStatus } from "../http/status.js";
import type { RegistryView, RequestContext, StoreView, WriteSubresource } from "../http/types.js";
import type { Reviews } from "../registry/authorization/reviews.js";
import { type Eviction, EvictionREST } from "../registry/core/pod/eviction.js";
import type { TokenREST } from "../registry/core/serviceaccount/token.js";
import { checkObject, objectOf } from "../registry/object-checks.js";
import { unknownFields } from "../registry/strategies.js";
import { parseIncludeObject, type TableOptions, toTable } from "../tables.js";
import type { WatchServer } from "./watch.js";

type ResourceTarget = Extract<ApiTarget, { type: "resource" }>;

const EVICTION_KIND = { group: "policy", version: "v1", kind: "Eviction" };
const TOKEN_REQUEST_KIND = { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" };

export interface ResourceHandlerDeps {
  registry: RegistryView;
  watches: WatchServer;
  /** Answers the create-only review kinds (access reviews, SelfSubjectReview, TokenReview). */
  reviews: Reviews;
  /** serviceaccounts/{name}/token; absent: that subresource is not served (404). */
  tokenRequest?: TokenREST | undefined;
}

/**
 * send answers in what the client's Accept prefers (protobuf or JSON, http/protobuf.ts); a given
 * contentType (Tables) is JSON as is. A Buffer keeps the Content-Type exactly as given (Fastify
 * rewrites it for strings).
 */
function send(
  req: FastifyRequest,
  reply: FastifyReply,
  code: number,
  body: unknown,
  contentType?: string,
): FastifyReply {
  if (contentType !== undefined) {
    return reply
      .code(code)
      .header("content-type", contentType)
      .send(Buffer.from(JSON.stringify(body)));
  }
  const { contentType: ct, payload } = serialize(req.headers.accept, body);
  return reply.code(code).header("content-type", ct).send(payload);
}

/** The main resource, or a subresource written with the resource's own kind through update/patch. */
function isWriteSubresource(sub: string | undefined): sub is WriteSubresource | undefined {
  return sub === undefined || sub === "status" || sub === "finalize" || sub === "ephemeralcontainers";
}

function pathNotFound(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource");
}

function requireVerb(r: ResourceInfo, verb: string, sub?: string): void {
  const verbs = sub ? r.subresources.find((s) => s.name === sub)?.verbs : r.verbs;
  if (!verbs?.includes(verb)) {
    throw methodNotAllowed(
      `the server does not allow this method on the requested resource (${verb} ${sub ? `${r.resource}/${sub}` : r.resource})`,
    );
  }
}

/**
 * checkFields applies ?fieldValidation: Strict -> 400 listing every unknown field, Warn ->
 * one `Warning: 299` header per field, Ignore -> nothing. Patch directives ($patch,
 * $setElementOrder/..., $retainKeys) are not fields.
 */
function checkFields(r: ResourceInfo, obj: unknown, wp: WriteParams, req: FastifyRequest): void {
  if (wp.fieldValidation === "Ignore") return;
  const unknown = [...unknownFields(r, obj), ...protobufUnknownFields(obj)].filter((f) => !f.includes("$"));
  if (unknown.length === 0) return;
  if (wp.fieldValidation === "Strict") {
    throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`);
  }
  for (const f of unknown) req.sink.warnings.push(`unknown field "${f}"`);
}

function ctxOf(req: FastifyRequest, wp: WriteParams): RequestContext {
  const ctx: RequestContext = { fieldValidation: wp.fieldValidation, sink: req.sink };
  if (req.user) {
    ctx.user = req.user.name;
    ctx.userInfo = req.user;
  }
  if (wp.dryRun) ctx.dryRun = true;
  if (wp.fieldManager) ctx.fieldManager = wp.fieldManager;
  return ctx;
}

/** asTable answers a Table when the Accept header asked for one, else the plain object. */
/** tableOptions: the Table version asked for, and ?includeObject=None|Metadata|Object. */
function tableOptions(req: FastifyRequest, version: "v1" | "v1beta1"): TableOptions {
  const o: TableOptions = { version };
  const include = parseIncludeObject((req.query as Query).includeObject as string | undefined);
  if (include) o.includeObject = include;
  return o;
}

function sendObjectOrTable(
  req: FastifyRequest,
  reply: FastifyReply,
  store: StoreView,
  code: number,
  obj: KubeObject,
): FastifyReply {
  const n = negotiate(req.headers.accept);
  if (n.type === "table") {
    const meta: ListMeta = {};
    if (obj.metadata.resourceVersion) meta.resourceVersion = obj.metadata.resourceVersion;
    return send(
      req,
      reply,
      code,
      toTable(store.strategy, [obj], meta, new Date(), tableOptions(req, n.version)),
      tableContentType(n.version),
    );
  }
  return send(req, reply, code, obj);
}

function sendListOrTable(req: FastifyRequest, reply: FastifyReply, store: StoreView, list: KubeList): FastifyReply {
  const n = negotiate(req.headers.accept);
  if (n.type === "table") {
    return send(
      req,
      reply,
      200,
      toTable(store.strategy, list.items, list.metadata, new Date(), tableOptions(req, n.version)),
      tableContentType(n.version),
    );
  }
  return send(req, reply, 200, list);
}

/**
 * The warning every request to a deprecated (still served) resource gets, as upstream's: v1
 * Endpoints since 1.33 (KEP-4974), whatever the verb.
 */
const DEPRECATED_RESOURCES: ReadonlyMap<string, string> = new Map([
  ["/v1/endpoints", "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"],
]);

/** makeResourceHandler returns the handler for one resolved resource target. */
export function makeResourceHandler(deps: ResourceHandlerDeps) {
  const { registry, watches, reviews, tokenRequest } = deps;
  let eviction: EvictionREST | undefined;
  const evictions = (pods: StoreView) => {
    eviction ??= new EvictionREST({ pods, pdbs: registry.store(PODDISRUPTIONBUDGETS) });
    return eviction;
  };

  async function get(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget, store: StoreView) {
    const r = t.resource;
    const q = req.query as Query;
    if (t.name === undefined) {
      if (t.watchPath || isWatch(q)) {
        requireVerb(r, "watch");
        return watches.serveHttp(req, reply, store, t.namespace, listOptions(q));
      }
      requireVerb(r, "list");
      return sendListOrTable(req, reply, store, await store.list(t.namespace, listOptions(q)));
    }
    if (t.subresource === undefined && (t.watchPath || isWatch(q))) {
      // A watch of one object (.../{name}?watch=true or the legacy /watch/ path), as upstream:
      // the collection's watch narrowed by metadata.name.
      requireVerb(r, "watch");
      return watches.serveHttp(req, reply, store, t.namespace, namedWatchOptions(q, t.name));
    }
    switch (t.subresource) {
      case undefined:
      case "status": {
        requireVerb(r, "get", t.subresource);
        const rv = (q.resourceVersion as string | undefined) || undefined;
        const obj = await store.get(t.namespace, t.name, rv ? { resourceVersion: rv } : undefined);
        return sendObjectOrTable(req, reply, store, 200, obj);
      }
      case "scale":
        return send(req, reply, 200, await store.getScale(t.namespace as string, t.name));
      case "ephemeralcontainers":
        // upstream EphemeralContainersREST: the pod itself.
        requireVerb(r, "get", t.subresource);
        return send(req, reply, 200, await store.get(t.namespace, t.name));
      case "log":
      case "exec":
      case "attach":
      case "portforward":
        throw new StatusError(
          503,
          "ServiceUnavailable",
          `${r.resource}/${t.subresource} is not available: no kubelet proxy is installed in this API server`,
        );
      default:
        throw methodNotAllowed(
          `the server does not allow this method on the requested resource (get ${t.subresource})`,
        );
    }
  }

  async function post(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget, store: StoreView) {
    const r = t.resource;
    const q = req.query as Query;
    const wp = writeParams(q);
    if (t.name === undefined) {
      requireVerb(r, "create");
      if (r.namespaced && t.namespace === undefined) throw pathNotFound();
      // kind, apiVersion and namespace are the store's to check (object-checks.ts).
      const obj = objectOf(decodeObject(req.body as Buffer | undefined, req.headers["content-type"], r.kind), r.kind);
      checkFields(r, obj, wp, req);
      const created = await store.create(t.namespace, obj, ctxOf(req, wp));
      req.log.debug({ namespace: t.namespace, object: created.metadata.name, resource: r.resource }, "created");
      return send(req, reply, 201, created);
    }
    const ns = t.namespace as string;
    switch (t.subresource) {
      case "binding": {
        const binding = checkObject(
          decodeObject(req.body as Buffer | undefined, req.headers["content-type"], "Binding"),
          { apiVersion: "v1", kind: "Binding", namespaced: true },
          ns,
          undefined,
        );
        if (binding.metadata.name && binding.metadata.name !== t.name) {
          throw badRequest(
            `the name of the object (${binding.metadata.name}) does not match the name on the URL (${t.name})`,
          );
        }
        binding.metadata.name = t.name;
        const result = await store.bind(ns, t.name, binding, ctxOf(req, wp));
        return send(req, reply, 201, result.kind === "Status" ? result : successStatus(201));
      }
      case "eviction": {
        const ev = checkObject(
          decodeObject(req.body as Buffer | undefined, req.headers["content-type"], "Eviction"),
          { apiVersion: "policy/v1", kind: "Eviction", namespaced: true },
          ns,
          undefined,
        ) as Eviction;
        const options = deleteOptions(ev.deleteOptions ?? undefined, {});
        const ctx = ctxOf(req, wp);
        await store.admitSubresourceCreate(ns, t.name, "eviction", EVICTION_KIND, ev, ctx);
        const result = await evictions(store).create(ns, t.name, ev, options, ctx);
        return send(req, reply, result.code, result);
      }
      case "token": {
        if (!tokenRequest) throw pathNotFound();
        requireVerb(r, "create", "token");
        const body = objectOf(
          decodeObject(req.body as Buffer | undefined, req.headers["content-type"], "TokenRequest"),
          "TokenRequest",
        );
        const ctx = ctxOf(req, wp);
        const created = await tokenRequest.create(ns, t.name, body, {
          sink: req.sink,
          admit: (tr) => store.admitSubresourceCreate(ns, t.name as string, "token", TOKEN_REQUEST_KIND, tr, ctx),
        });
        return send(req, reply, 201, created);
      }
      default:
        throw methodNotAllowed(
          `the server does not allow this method on the requested resource (create ${t.subresource ?? r.resource})`,
        );
    }
  }

  async function put(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget, store: StoreView) {
    const r = t.resource;
    if (t.name === undefined) throw methodNotAllowed("the server does not allow this method on the requested resource");
    const wp = writeParams(req.query as Query);
    const raw = req.body as Buffer | undefined;
    const ct = req.headers["content-type"];
    if (t.subresource === "scale") {
      requireVerb(r, "update", "scale");
      const scale = checkObject(
        decodeObject(raw, ct, "Scale"),
        { apiVersion: "autoscaling/v1", kind: "Scale", namespaced: true },
        t.namespace,
        t.name,
      );
      return send(req, reply, 200, await store.updateScale(t.namespace as string, t.name, scale, ctxOf(req, wp)));
    }
    if (!isWriteSubresource(t.subresource)) {
      throw methodNotAllowed(
        `the server does not allow this method on the requested resource (update ${t.subresource})`,
      );
    }
    requireVerb(r, "update", t.subresource);
    const obj = objectOf(decodeObject(raw, ct, r.kind), r.kind);
    checkFields(r, obj, wp, req);
    const ctx: RequestContext & { subresource?: WriteSubresource } = ctxOf(req, wp);
    if (t.subresource !== undefined) ctx.subresource = t.subresource;
    const { object, created } = await store.update(t.namespace, t.name, obj, ctx);
    return send(req, reply, created ? 201 : 200, object);
  }

  async function patch(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget, store: StoreView) {
    const r = t.resource;
    if (t.name === undefined) throw methodNotAllowed("the server does not allow this method on the requested resource");
    const q = req.query as Query;
    const wp = writeParams(q);
    const { kind, patch: body } = decodePatch(req.body as Buffer | undefined, req.headers["content-type"]);
    if (kind === "apply") {
      // Server-side apply bodies are whole objects: they must name the path's kind.
      const applied = body as Record<string, unknown>;
      const expectVersion = t.subresource === "scale" ? "autoscaling/v1" : apiVersionOf(r);
      const expectKind = t.subresource === "scale" ? "Scale" : r.kind;
      if (applied.apiVersion !== expectVersion || applied.kind !== expectKind) {
        throw badRequest(
          `the API version and kind in the applied object (${String(applied.apiVersion)}, ${String(applied.kind)}) must match the URL (${expectVersion}, ${expectKind})`,
        );
      }
      if (wp.fieldManager === undefined) {
        throw badRequest("PATCH requests of type application/apply-patch+yaml must provide a fieldManager");
      }
    }
    const ctx = ctxOf(req, wp);
    if (t.subresource === "scale") {
      requireVerb(r, "patch", "scale");
      return send(req, reply, 200, await store.patchScale(t.namespace as string, t.name, kind, body, ctx));
    }
    if (t.subresource === "finalize" || !isWriteSubresource(t.subresource)) {
      throw methodNotAllowed(
        `the server does not allow this method on the requested resource (patch ${t.subresource})`,
      );
    }
    requireVerb(r, "patch", t.subresource);
    if (kind !== "json") checkFields(r, body, wp, req);
    const pctx: RequestContext & { subresource?: WriteSubresource; force?: boolean } = ctx;
    if (t.subresource !== undefined) pctx.subresource = t.subresource;
    if (wp.force) pctx.force = true;
    const { object, created } = await store.patch(t.namespace, t.name, kind, body, pctx);
    return send(req, reply, created ? 201 : 200, object);
  }

  async function del(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget, store: StoreView) {
    const r = t.resource;
    const q = req.query as Query;
    const wp = writeParams(q);
    const opts = deleteOptions(decodeOptional(req.body as Buffer | undefined, req.headers["content-type"]), q);
    if (opts.dryRun?.includes("All")) wp.dryRun = true;
    if (t.subresource !== undefined) {
      throw methodNotAllowed(
        `the server does not allow this method on the requested resource (delete ${t.subresource})`,
      );
    }
    if (t.name === undefined) {
      requireVerb(r, "deletecollection");
      if (r.namespaced && t.namespace === undefined) {
        // Upstream serves deletecollection only inside a namespace for namespaced kinds.
        throw methodNotAllowed("the server does not allow this method on the requested resource");
      }
      const list = await store.deleteCollection(t.namespace, listOptions(q), opts, ctxOf(req, wp));
      return send(req, reply, 200, list);
    }
    requireVerb(r, "delete");
    const { object, deleted } = await store.delete(t.namespace, t.name, opts, ctxOf(req, wp));
    req.log.debug({ namespace: t.namespace, object: t.name, resource: r.resource, deleted }, "deleted");
    // As upstream's delete handler: 202 when a cascading delete is left to the garbage collector.
    const code = !deleted && opts.orphanDependents === false ? 202 : 200;
    // Deferred (grace period, finalizers): the object as it is now; gone: a Status naming it.
    if (!deleted || store.strategy.returnDeletedObject) return send(req, reply, code, object);
    return send(req, reply, code, deletedStatus(r, object));
  }

  /** A create-only kind: POST to the collection answers the review; nothing else exists. */
  async function review(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget): Promise<FastifyReply> {
    const r = t.resource;
    if (req.method !== "POST" || t.name !== undefined) {
      throw methodNotAllowed("the server does not allow this method on the requested resource");
    }
    if (r.namespaced && t.namespace === undefined) throw pathNotFound();
    const wp = writeParams(req.query as Query);
    const obj = checkObject(
      decodeObject(req.body as Buffer | undefined, req.headers["content-type"], r.kind),
      { apiVersion: apiVersionOf(r), kind: r.kind, namespaced: r.namespaced },
      t.namespace,
      undefined,
    );
    checkFields(r, obj, wp, req);
    if (!req.user) throw badRequest("no user present on request");
    return send(req, reply, 201, await reviews.create(r.kind, obj, req.user, t.namespace));
  }

  /** handle serves a request whose path resolved to a resource. */
  return async function handle(req: FastifyRequest, reply: FastifyReply, t: ResourceTarget): Promise<FastifyReply> {
    const deprecated = DEPRECATED_RESOURCES.get(`${t.resource.group}/${t.resource.version}/${t.resource.resource}`);
    if (deprecated) req.sink.warnings.push(deprecated);
    if (isCreateOnly(t.resource)) return review(req, reply, t);
    const store = registry.store(t.resource);
    switch (req.method) {
      case "GET":
        return get(req, reply, t, store);
      case "POST":
        return post(req, reply, t, store);
      case "PUT":
        return put(req, reply, t, store);
      case "PATCH":
        return patch(req, reply, t, store);
      case "DELETE":
        return del(req, reply, t, store);
      default:
        throw methodNotAllowed(`the server does not allow this method on the requested resource (${req.method})`);
    }
  };
}

/** namedWatchOptions narrows a watch to one object by name. */
export function namedWatchOptions(q: Query, name: string) {
  const opts = listOptions(q);
  opts.fieldSelector = `metadata.name=${name}${opts.fieldSelector ? `,${opts.fieldSelector}` : ""}`;
  return opts;
}

/** verbOf names a request as upstream's metrics and audit do (LIST/WATCH/GET/POST/...). */
export function verbOf(method: string, t: ResourceTarget, q: Query): string {
  switch (method) {
    case "GET":
      if (t.watchPath || (t.subresource === undefined && lenientBool(q, "watch") === true)) return "WATCH";
      return t.name === undefined ? "LIST" : "GET";
    case "DELETE":
      return t.name === undefined ? "DELETECOLLECTION" : "DELETE";
    default:
      return method;
  }
}
