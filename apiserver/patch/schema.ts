// Which lists merge and by which key, per built-in kind, read from the kinds' TypeBox schemas
// (pkg/api/types): the x-kubernetes-patch-merge-key / -patch-strategy / -list-type /
// -list-map-keys / -map-type annotations upstream's OpenAPI carries for the patchMergeKey,
// patchStrategy, listType and structType tags of k8s.io/api. Strategic merge patch and
// server-side apply both read this, so a new kind's merge rules are declared once, in its schema.
// Lists without a merge strategy are atomic (replaced whole), as upstream does — tolerations
// and taints included (both `+listType=atomic` upstream).

import type { TSchema } from "#pkg/api/schema/helpers.js";
import { ObjectMetaSchema } from "#pkg/api/types/meta.js";
import { KIND_SCHEMAS } from "#pkg/api/types/schemas.js";

export interface FieldSchema {
  /** Struct fields whose own schema matters. Unlisted fields: maps merge, lists are atomic. */
  fields?: Record<string, FieldSchema>;
  /** A list of objects merged by this key (patchStrategy=merge, patchMergeKey=...). */
  mergeKey?: string;
  /**
   * Server-side apply's keys for the same list when they differ from mergeKey
   * (listMapKeys: ports are keyed by port and protocol).
   */
  mapKeys?: string[];
  /** A list of scalars merged as a set (patchStrategy=merge on []string, listType=set). */
  set?: boolean;
  /** Schema of each element of a keyed list. */
  items?: FieldSchema;
  /** A struct replaced whole by server-side apply (structType=atomic, e.g. LabelSelector). */
  atomic?: boolean;
}

/** The parts of a JSON schema the merge rules are read from. */
interface AnnotatedSchema {
  type?: string;
  properties?: Record<string, AnnotatedSchema>;
  items?: AnnotatedSchema;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-patch-merge-key"?: string;
  "x-kubernetes-patch-strategy"?: string;
  "x-kubernetes-map-type"?: "atomic" | "granular";
}

/** The merge rules of a schema; undefined when nothing in it is merged specially. */
function rulesOf(s: AnnotatedSchema | undefined): FieldSchema | undefined {
  if (!s) return undefined;
  if (s.type === "array") {
    const merge = (s["x-kubernetes-patch-strategy"] ?? "").split(",").includes("merge");
    const key = s["x-kubernetes-patch-merge-key"];
    if (merge && key) {
      const out: FieldSchema = { mergeKey: key };
      const keys = s["x-kubernetes-list-map-keys"];
      if (keys && !(keys.length === 1 && keys[0] === key)) out.mapKeys = keys;
      const items = rulesOf(s.items);
      if (items) out.items = items;
      return out;
    }
    if (merge || s["x-kubernetes-list-type"] === "set") return { set: true };
    return undefined;
  }
  if (s["x-kubernetes-map-type"] === "atomic") return { atomic: true };
  if (!s.properties) return undefined;
  const fields: Record<string, FieldSchema> = {};
  for (const [name, p] of Object.entries(s.properties)) {
    const r = rulesOf(p);
    if (r) fields[name] = r;
  }
  return Object.keys(fields).length > 0 ? { fields } : undefined;
}

const asAnnotated = (s: TSchema) => s as unknown as AnnotatedSchema;

/** Rules keyed by "group/Kind" ("" group for core), from "group/version/Kind" schema keys. */
const KINDS: ReadonlyMap<string, FieldSchema> = new Map(
  Object.entries(KIND_SCHEMAS).map(([key, schema]) => {
    const parts = key.split("/");
    const kind = parts.pop() as string;
    parts.pop(); // the version
    return [`${parts.join("/")}/${kind}`, rulesOf(asAnnotated(schema)) ?? {}];
  }),
);

const metadataRules = rulesOf(asAnnotated(ObjectMetaSchema));
const GENERIC: FieldSchema = metadataRules ? { fields: { metadata: metadataRules } } : {};

/** Values list-map keys take when an item omits them (the API defaults them the same way). */
export const MAP_KEY_DEFAULTS: Readonly<Record<string, unknown>> = { protocol: "TCP" };

/** The schema of a kind by API group ("" for core); unknown kinds get metadata rules only. */
export function schemaFor(group: string, kindName: string): FieldSchema {
  return KINDS.get(`${group}/${kindName}`) ?? GENERIC;
}

/** Schema at a dotted path within a kind, e.g. "spec.template.spec.containers" (for tests and callers). */
export function schemaAt(root: FieldSchema, path: string): FieldSchema | undefined {
  let s: FieldSchema | undefined = root;
  for (const part of path.split(".")) {
    if (!s) return undefined;
    s = s.fields?.[part] ?? s.items?.fields?.[part];
  }
  return s;
}

/** The child schema of a field. */
export function child(s: FieldSchema | undefined, field: string): FieldSchema | undefined {
  return s?.fields?.[field];
}
