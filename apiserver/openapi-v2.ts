// GET /openapi/v2: the Swagger 2.0 document, generated from the same TypeBox schemas as
// /openapi/v3 (pkg/api/types). kubectl 1.27 and 1.28 fetch it before explain, apply and create -f
// (client-go's discovery OpenAPISchema(), in protobuf) and use its definitions for
// `explain --output=plaintext-openapiv2`, for client-side apply's strategic-merge-patch metadata
// (x-kubernetes-patch-strategy / -patch-merge-key: containers merged by name) and for client-side
// validation of what the server does not validate (a v1 List's items). kubectl finds a kind's
// definition by its x-kubernetes-group-version-kind, and whether the server validates fields by
// the `fieldValidation` query parameter of the kind's patch operation.
//
// Definitions are named as upstream: a kind io.k8s.api.<group>.<version>.<Kind>, metav1's types
// io.k8s.apimachinery.pkg.apis.meta.v1.*, and every other named schema (an exported *Schema of
// pkg/api/types, e.g. ContainerSchema) under the package of the first kind that uses it
// (io.k8s.api.core.v1.Container); anonymous objects stay inline. Schemas are translated as
// upstream's v2 has them: int-or-string is {type: string, format: int-or-string}, a Quantity a
// string, a nullable Time the Time, an opaque value (RawExtension-like) untyped.
//
// Built once per resource table and kept: the JSON bytes, the protobuf bytes and an ETag.

import { createHash } from "node:crypto";
import { BUILTIN_RESOURCES, isCreateOnly, type ResourceInfo } from "#pkg/api/resources.js";
import type { TSchema } from "#pkg/api/schema/helpers.js";
import * as types from "#pkg/api/types/index.js";
import * as meta from "#pkg/api/types/meta.js";
import { KIND_SCHEMAS } from "#pkg/api/types/schemas.js";
import { componentName, OPENAPI_INFO, WRITE_PARAMETERS } from "./openapi.js";
import { encodeDocument } from "./openapi-v2-proto.js";

type Json = Record<string, unknown>;

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";
const REF = "#/definitions/";
const ref = (name: string): Json => ({ $ref: `${REF}${name}` });
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The "io.k8s.api.core.v1" of a kind's group and version. */
function packageOf(group: string, version: string): string {
  return componentName(group, version, "X").slice(0, -2);
}

/** Exported schemas whose upstream name differs from kubeling's. */
const UPSTREAM_NAMES: Readonly<Record<string, string>> = { AppsCondition: "DeploymentCondition" };

/** Every exported object schema of pkg/api/types by its `properties` (kept by Opt()'s shallow copy). */
function exportedObjectSchemas(): Map<object, { short: string; schema: Json }> {
  const out = new Map<object, { short: string; schema: Json }>();
  // Through the index, so a new types module needs no change here (a name two modules both
  // export is left out of the index by ES's export *, and its schema stays inline).
  for (const [name, value] of Object.entries(types)) {
    if (!name.endsWith("Schema") || !isObj(value) || !isObj(value.properties)) continue;
    const short = name.slice(0, -"Schema".length);
    if (!out.has(value.properties)) out.set(value.properties, { short: UPSTREAM_NAMES[short] ?? short, schema: value });
  }
  return out;
}

const META_PROPERTIES = new Set<object>(
  Object.entries(meta)
    .filter(([n, v]) => n.endsWith("Schema") && isObj(v) && isObj(v.properties))
    .map(([, v]) => (v as Json).properties as object),
);

interface Kind {
  group: string;
  version: string;
  kind: string;
  schema: TSchema;
}

/** Translates TypeBox schemas into Swagger 2.0 schemas and collects the named definitions. */
class Translator {
  readonly definitions = new Map<string, Json>();
  /** properties object -> definition name, fixed when first met. */
  private readonly names = new Map<object, string>();
  private readonly taken = new Set<string>();
  private readonly exported = exportedObjectSchemas();

  /** A kind's definition (with its GVK); returns its name. */
  addKind(k: Kind): string {
    const name = componentName(k.group, k.version, k.kind);
    const props = (k.schema as Json).properties as object;
    this.names.set(props, name);
    this.taken.add(name);
    const def = this.object(k.schema as Json, packageOf(k.group, k.version));
    def["x-kubernetes-group-version-kind"] = [{ group: k.group, kind: k.kind, version: k.version }];
    this.definitions.set(name, def);
    return name;
  }

  /** The name a named object schema gets (defining it on first use), or undefined (inline). */
  private nameFor(s: Json, pkg: string): string | undefined {
    const props = s.properties;
    if (!isObj(props)) return undefined;
    const known = this.names.get(props);
    if (known) return known;
    const exported = this.exported.get(props);
    if (!exported) return undefined;
    const { short, schema } = exported;
    const name = `${META_PROPERTIES.has(props) ? META : pkg}.${short}`;
    // Two different schemas exported under one name in different modules: the second one
    // takes its module-less twin's name only if free, else it stays anonymous (inline).
    if (this.taken.has(name)) return undefined;
    this.names.set(props, name);
    this.taken.add(name);
    this.definitions.set(name, {}); // reserve (recursion), filled below
    // From the exported schema, not this use site (which may add its own extensions).
    this.definitions.set(name, this.object(schema, name.slice(0, name.lastIndexOf("."))));
    return name;
  }

  /** An object schema's own translation (never a $ref). */
  private object(s: Json, pkg: string): Json {
    const out: Json = {};
    if (typeof s.description === "string") out.description = s.description;
    out.type = "object";
    const required = Array.isArray(s.required) ? (s.required as string[]) : [];
    if (required.length) out.required = [...required];
    const props = s.properties as Json;
    out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, this.schema(v as Json, pkg)]));
    if (s.additionalProperties !== undefined) out.additionalProperties = this.additional(s.additionalProperties, pkg);
    return withExtensions(out, s);
  }

  private additional(ap: unknown, pkg: string): unknown {
    return typeof ap === "boolean" ? ap : this.schema(ap as Json, pkg);
  }

  /** Any schema at a use site: named objects become $refs. */
  schema(s: Json, pkg: string): Json {
    const alternatives = (s.anyOf ?? s.oneOf) as Json[] | undefined;
    if (s["x-kubernetes-int-or-string"] === true)
      return withExtensions({ ...describe(s), type: "string", format: "int-or-string" }, s, [
        "x-kubernetes-int-or-string",
      ]);
    if (alternatives) {
      const real = alternatives.filter((a) => a.type !== "null");
      if (real.length === 1) return this.schema({ ...real[0], ...describe(s), ...extensionsOf(s) }, pkg);
      // resource.Quantity ("100m" or 2): a string in upstream's v2.
      if (real.every((a) => ["string", "number", "integer"].includes(a.type as string)))
        return withExtensions({ ...describe(s), type: "string" }, s);
      throw new Error(`openapi v2: no translation for a union of ${JSON.stringify(real)}`);
    }
    if (isObj(s.properties)) {
      const name = this.nameFor(s, pkg);
      if (!name) return this.object(s, pkg);
      const def = this.definitions.get(name) ?? {};
      // A use site keeps its own description and extensions where they differ from the definition's.
      const out: Json = ref(name);
      if (typeof s.description === "string" && s.description !== def.description) out.description = s.description;
      for (const [k, v] of Object.entries(extensionsOf(s)))
        if (JSON.stringify(def[k]) !== JSON.stringify(v)) out[k] = v;
      return out;
    }
    switch (s.type) {
      case "array":
        return withExtensions({ ...describe(s), type: "array", items: this.schema(s.items as Json, pkg) }, s);
      case "object": {
        const out: Json = { ...describe(s), type: "object" };
        if (s.additionalProperties !== undefined)
          out.additionalProperties = this.additional(s.additionalProperties, pkg);
        return withExtensions(out, s);
      }
      case "string":
      case "integer":
      case "number":
      case "boolean": {
        const out: Json = { ...describe(s), type: s.type };
        if (typeof s.format === "string") out.format = s.format;
        else if (s.type === "number") out.format = "double";
        if (s.const !== undefined) out.enum = [s.const];
        else if (Array.isArray(s.enum)) out.enum = s.enum;
        return withExtensions(out, s);
      }
      case undefined:
        // An opaque value (AnyJson): untyped, so kubectl's validator takes anything there.
        return withExtensions(describe(s), s);
      default:
        throw new Error(`openapi v2: no translation for type ${JSON.stringify(s.type)}`);
    }
  }
}

const describe = (s: Json): Json => (typeof s.description === "string" ? { description: s.description } : {});
const extensionsOf = (s: Json): Json =>
  Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith("x-kubernetes-")));
function withExtensions(out: Json, s: Json, skip: string[] = []): Json {
  for (const [k, v] of Object.entries(extensionsOf(s))) if (!skip.includes(k)) out[k] = v;
  return out;
}

// ---------------------------------------------------------------- paths

function param(name: string, where: "path" | "query", description: string): Json {
  return {
    description,
    in: where,
    name,
    ...(where === "path" ? { required: true } : {}),
    type: "string",
    uniqueItems: true,
  };
}
const body = (schemaRef: string): Json => ({ in: "body", name: "body", required: true, schema: ref(schemaRef) });
const WRITE_PARAMS = WRITE_PARAMETERS.map(([name, description]) => param(name, "query", description));
const PATCH_TYPES = [
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
];
const PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"];

function operation(
  r: Pick<ResourceInfo, "group" | "version" | "kind">,
  action: string,
  verb: string,
  responseRef: string | undefined,
  extra: Json = {},
): Json {
  const tag = r.group ? `${r.group.split(".")[0]}_${r.version}` : `core_${r.version}`;
  return {
    consumes: ["*/*"],
    ...extra,
    operationId: `${verb}${tag.replace(/(^|_)(\w)/g, (_m, _s, c: string) => c.toUpperCase())}${r.kind}`,
    produces: PRODUCES,
    responses: {
      "200": { description: "OK", ...(responseRef ? { schema: ref(responseRef) } : {}) },
      "401": { description: "Unauthorized" },
    },
    schemes: ["https"],
    tags: [tag],
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group: r.group, kind: r.kind, version: r.version },
  };
}

function addPaths(
  paths: Json,
  r: ResourceInfo,
  defOf: (gvk: { group: string; version: string; kind: string }) => string | undefined,
  listDef: string | undefined,
): void {
  const kindDef = defOf(r);
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = param("namespace", "path", "object name and auth scope, such as for teams and projects");
  const name = param("name", "path", `name of the ${r.kind}`);
  const scope = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const scopeParams = r.namespaced ? { parameters: [ns] } : {};
  const writeParams = (bodyRef: string | undefined) => [...(bodyRef ? [body(bodyRef)] : []), ...WRITE_PARAMS];
  if (isCreateOnly(r)) {
    paths[scope] = {
      post: operation(r, "post", "create", kindDef, { parameters: writeParams(kindDef) }),
      ...scopeParams,
    };
    return;
  }
  paths[scope] = {
    get: operation(r, "list", "list", listDef),
    post: operation(r, "post", "create", kindDef, { parameters: writeParams(kindDef) }),
    ...scopeParams,
  };
  if (r.namespaced) paths[`${base}/${r.resource}`] = { get: operation(r, "list", "list", listDef) };
  const objectParams = { parameters: [name, ...(r.namespaced ? [ns] : [])] };
  const patchParams = [
    body(`${META}.Patch`),
    ...WRITE_PARAMS,
    param("force", "query", 'Force is going to "force" Apply requests.'),
  ];
  paths[`${scope}/{name}`] = {
    delete: operation(r, "delete", "delete", undefined, { parameters: [WRITE_PARAMS[0]] }),
    get: operation(r, "get", "read", kindDef),
    patch: operation(r, "patch", "patch", kindDef, { consumes: PATCH_TYPES, parameters: patchParams }),
    put: operation(r, "put", "replace", kindDef, { parameters: writeParams(kindDef) }),
    ...objectParams,
  };
  for (const s of r.subresources) {
    if (!s.verbs.includes("patch") && !s.verbs.includes("update")) continue;
    const sub = s.kind;
    const subDef = defOf(sub);
    paths[`${scope}/{name}/${s.name}`] = {
      ...(s.verbs.includes("get") ? { get: operation(sub, "get", "read", subDef) } : {}),
      ...(s.verbs.includes("patch")
        ? { patch: operation(sub, "patch", "patch", subDef, { consumes: PATCH_TYPES, parameters: patchParams }) }
        : {}),
      ...(s.verbs.includes("update")
        ? { put: operation(sub, "put", "replace", subDef, { parameters: writeParams(subDef) }) }
        : {}),
      ...objectParams,
    };
  }
}

// ---------------------------------------------------------------- the document

const LIST_META: Json = {
  description:
    "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
  type: "object",
  properties: {
    continue: { type: "string" },
    remainingItemCount: { type: "integer", format: "int64" },
    resourceVersion: { type: "string" },
    selfLink: { type: "string" },
  },
};

/** The Swagger 2.0 document for a resource table (not cached; see openApiV2()). */
export function buildOpenApiV2Document(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES): Json {
  const t = new Translator();
  // Kinds first, in the resource table's order (core first), so shared schemas (Container,
  // PodTemplateSpec...) are named under the package of the first kind that uses them.
  const kinds: Kind[] = [];
  const seen = new Set<string>();
  const addKind = (group: string, version: string, kind: string) => {
    const key = `${group}/${version}/${kind}`;
    const schema = KIND_SCHEMAS[`${group ? `${group}/` : ""}${version}/${kind}`];
    if (seen.has(key) || !schema) return;
    seen.add(key);
    kinds.push({ group, version, kind, schema });
  };
  for (const r of resources) {
    addKind(r.group, r.version, r.kind);
    for (const s of r.subresources) addKind(s.kind.group, s.kind.version, s.kind.kind);
  }
  const kindDefs = new Map<string, string>();
  for (const k of kinds) kindDefs.set(`${k.group}/${k.version}/${k.kind}`, t.addKind(k));
  t.definitions.set(`${META}.ListMeta`, LIST_META);
  t.definitions.set(`${META}.Patch`, {
    description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
    type: "object",
  });

  const paths: Json = {};
  for (const r of resources) {
    const kindDef = kindDefs.get(`${r.group}/${r.version}/${r.kind}`);
    let listDef: string | undefined;
    if (kindDef && !isCreateOnly(r)) {
      listDef = componentName(r.group, r.version, r.listKind);
      t.definitions.set(listDef, {
        description: `${r.listKind} is a list of ${r.kind} objects.`,
        type: "object",
        required: ["items"],
        properties: {
          apiVersion: { type: "string" },
          items: { type: "array", items: ref(kindDef) },
          kind: { type: "string" },
          metadata: ref(`${META}.ListMeta`),
        },
        "x-kubernetes-group-version-kind": [{ group: r.group, kind: r.listKind, version: r.version }],
      });
    }
    addPaths(paths, r, (k) => kindDefs.get(`${k.group}/${k.version}/${k.kind}`), listDef);
  }
  const definitions = Object.fromEntries([...t.definitions].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    swagger: "2.0",
    info: { ...OPENAPI_INFO },
    paths,
    definitions,
    securityDefinitions: {
      BearerToken: { description: "Bearer Token authentication", in: "header", name: "authorization", type: "apiKey" },
    },
    security: [{ BearerToken: [] }],
  };
}

export interface OpenApiV2 {
  json: Buffer;
  protobuf: Buffer;
  /** Quoted, as the ETag header carries it: one for both forms, as upstream's handler. */
  etag: string;
}

const cache = new WeakMap<readonly ResourceInfo[], OpenApiV2>();

/** The document for a resource table, built on first use and kept. */
export function openApiV2(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES): OpenApiV2 {
  const hit = cache.get(resources);
  if (hit) return hit;
  const doc = buildOpenApiV2Document(resources);
  const json = Buffer.from(JSON.stringify(doc));
  const built = {
    json,
    protobuf: encodeDocument(doc),
    etag: `"${createHash("sha512").update(json).digest("hex").toUpperCase()}"`,
  };
  cache.set(resources, built);
  return built;
}
