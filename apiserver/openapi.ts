// OpenAPI v3 (what kubectl apply / create -f fetch before writing, KUBECTL_WIRE 1.9): an
// index at /openapi/v3 naming one document per group-version with a content hash, and the
// per-group-version documents. Every object path has a `patch` operation carrying
// x-kubernetes-group-version-kind and a `fieldValidation` query parameter, which is what makes
// kubectl trust the server to validate and send fieldValidation=Strict. The operations have no
// requestBody on purpose: kubectl then computes client-side apply patches from its compiled-in
// types (verified to work), rather than from our schemas. Component schemas (upstream names,
// e.g. io.k8s.api.apps.v1.Deployment) are included for `kubectl explain`-style consumers.

import { createHash } from "node:crypto";
import { apiVersionOf, BUILTIN_RESOURCES, isCreateOnly, type ResourceInfo } from "#pkg/api/resources.js";
import { schemaForKind } from "#pkg/api/types/schemas.js";
import { groupVersions } from "./discovery.js";
import { KUBERNETES_VERSION } from "./routes/system.js";

export interface OpenApiIndex {
  paths: Record<string, { serverRelativeURL: string }>;
}

type Json = Record<string, unknown>;

/** The info of both OpenAPI documents (v2 and v3). */
export const OPENAPI_INFO = { title: "Kubernetes", version: KUBERNETES_VERSION } as const;

/** "api/v1" or "apis/apps/v1": the key of a group-version in the index. */
export function openApiPathOf(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** Upstream's component name for a kind: io.k8s.api.<group short name>.<version>.<Kind>. */
export function componentName(group: string, version: string, kind: string): string {
  // Upstream uses the first label of the group ("coordination.k8s.io" -> "coordination"), "core" for "".
  const pkg = group === "" ? "core" : (group.split(".")[0] ?? group);
  return `io.k8s.api.${pkg}.${version}.${kind}`;
}

const gvk = (r: ResourceInfo) => ({ group: r.group, version: r.version, kind: r.kind });

function param(name: string, where: "path" | "query", description: string): Json {
  return {
    name,
    in: where,
    description,
    ...(where === "path" ? { required: true } : {}),
    schema: { type: "string", uniqueItems: true },
  };
}

/** The query parameters of every write, [name, description], for both OpenAPI documents. */
export const WRITE_PARAMETERS: ReadonlyArray<readonly [string, string]> = [
  ["dryRun", "When present, indicates that modifications should not be persisted. Valid value: All."],
  ["fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."],
  [
    "fieldValidation",
    "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values: Ignore, Warn, Strict.",
  ],
];
const WRITE_PARAMS = WRITE_PARAMETERS.map(([name, description]) => param(name, "query", description));

function response(ref: string | undefined): Json {
  const content = ref ? { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } } : undefined;
  return { "200": { description: "OK", ...(content ? { content } : {}) }, "401": { description: "Unauthorized" } };
}

function op(r: ResourceInfo, action: string, ref: string | undefined, extra: Json = {}): Json {
  return {
    operationId: `${action}${r.kind}`,
    tags: [r.group ? `${r.group.split(".")[0]}_${r.version}` : `core_${r.version}`],
    responses: response(ref),
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": gvk(r),
    ...extra,
  };
}

/** Strips TypeBox bookkeeping ($id) from a schema so it reads as plain OpenAPI 3.0. */
function cleanSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cleanSchema);
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (k !== "$id") out[k] = cleanSchema(v);
  return out;
}

function buildDocument(group: string, version: string, resources: readonly ResourceInfo[]): Json | undefined {
  const mine = resources.filter((r) => r.group === group && r.version === version);
  if (mine.length === 0) return undefined;
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Record<string, Json> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of mine) {
    const schema = schemaForKind(apiVersionOf(r), r.kind);
    let ref: string | undefined;
    if (schema) {
      ref = componentName(r.group, r.version, r.kind);
      schemas[ref] = { ...(cleanSchema(schema) as Json), "x-kubernetes-group-version-kind": [gvk(r)] };
    }
    const nsParam = param("namespace", "path", "object name and auth scope, such as for teams and projects");
    const nameParam = param("name", "path", `name of the ${r.kind}`);
    const scope = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
    const scopeParams = r.namespaced ? [nsParam] : [];
    if (isCreateOnly(r)) {
      // The access reviews: a POST to the collection, nothing else.
      paths[scope] = { post: op(r, "post", ref, { parameters: WRITE_PARAMS }), parameters: scopeParams };
      continue;
    }
    paths[scope] = {
      get: op(r, "list", undefined),
      post: op(r, "post", ref, { parameters: WRITE_PARAMS }),
      parameters: scopeParams,
    };
    if (r.namespaced) paths[`${base}/${r.resource}`] = { get: op(r, "list", undefined), parameters: [] };
    paths[`${scope}/{name}`] = {
      get: op(r, "get", ref),
      put: op(r, "put", ref, { parameters: WRITE_PARAMS }),
      patch: op(r, "patch", ref, { parameters: [...WRITE_PARAMS, param("force", "query", "Force apply.")] }),
      delete: op(r, "delete", undefined, { parameters: [param("dryRun", "query", "Do not persist.")] }),
      parameters: [nameParam, ...scopeParams],
    };
    for (const s of r.subresources) {
      if (!s.verbs.includes("patch") && !s.verbs.includes("update")) continue;
      const sub: ResourceInfo = { ...r, group: s.kind.group, version: s.kind.version, kind: s.kind.kind };
      paths[`${scope}/{name}/${s.name}`] = {
        get: op(sub, "get", undefined),
        ...(s.verbs.includes("update") ? { put: op(sub, "put", undefined, { parameters: WRITE_PARAMS }) } : {}),
        ...(s.verbs.includes("patch")
          ? { patch: op(sub, "patch", undefined, { parameters: [...WRITE_PARAMS, param("force", "query", "")] }) }
          : {}),
        parameters: [nameParam, ...scopeParams],
      };
    }
  }
  return {
    openapi: "3.0.0",
    info: { ...OPENAPI_INFO },
    paths,
    components: { schemas, securitySchemes: { BearerToken: { type: "apiKey", in: "header", name: "authorization" } } },
    security: [{ BearerToken: [] }],
  };
}

interface Built {
  docs: Map<string, { doc: Json; hash: string }>;
}
const cache = new WeakMap<readonly ResourceInfo[], Built>();

function build(resources: readonly ResourceInfo[]): Built {
  const hit = cache.get(resources);
  if (hit) return hit;
  const docs = new Map<string, { doc: Json; hash: string }>();
  for (const gv of groupVersions(resources)) {
    const doc = buildDocument(gv.group, gv.version, resources);
    if (!doc) continue;
    const hash = createHash("sha512").update(JSON.stringify(doc)).digest("hex").toUpperCase();
    docs.set(openApiPathOf(gv.group, gv.version), { doc, hash });
  }
  const built = { docs };
  cache.set(resources, built);
  return built;
}

/** GET /openapi/v3. */
export function openApiV3Index(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES): OpenApiIndex {
  const paths: OpenApiIndex["paths"] = {};
  for (const [path, { hash }] of build(resources).docs)
    paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  return { paths };
}

/**
 * GET /openapi/v3/<path> where path is "api/v1" or "apis/{group}/{version}" (no leading slash,
 * no query): the document and its hash (for ETag / immutable caching), or undefined (404).
 */
export function openApiV3Document(
  path: string,
  resources: readonly ResourceInfo[] = BUILTIN_RESOURCES,
): { doc: Json; hash: string } | undefined {
  return build(resources).docs.get(path.replace(/^\/+/, "").replace(/^openapi\/v3\//, ""));
}

/**
 * The Content-Type of /openapi/v2 in protobuf (gnostic's openapi.v2.Document): kube-openapi's
 * dotted form of the "...spec.v2@v1.0+protobuf" that kubectl asks for.
 */
export const OPENAPI_V2_PROTOBUF_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
