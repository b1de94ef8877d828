// Server-side apply, kept small (upstream: sigs.k8s.io/structured-merge-diff + the apiserver's
// fieldmanager). What it does:
//   - the applied config is merged into the live object with the same list keys as strategic
//     merge patch (keyed lists merge item by item, other lists are atomic, LabelSelectors atomic);
//   - metadata.managedFields keeps one Apply entry per manager, in upstream's FieldsV1 notation
//     (`f:field`, `k:{"name":"x"}` with a "." marker for the item itself, `v:"value"` for sets);
//   - a leaf the caller sets to a different value than the live one, owned by another Apply
//     manager, is a conflict (409, FieldManagerConflict causes) unless force, which takes it over;
//   - fields the manager applied before and omits now are removed unless another manager owns them.
// Simplified against upstream: only Apply managers own fields (Update operations — PUT, JSON/merge
// patches — are not tracked, so they never conflict and never lose ownership); null values in the
// applied config are dropped; status is tracked only through the status subresource; the applied
// config is not defaulted before merging (list-map keys such as a port's protocol are defaulted
// for matching only).

import { badRequest, StatusError } from "#pkg/api/errors.js";
import type { KubeObject, ManagedFieldsEntry } from "#pkg/api/meta.js";
import { apiVersionOf, type ResourceInfo } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import { child, type FieldSchema, MAP_KEY_DEFAULTS, schemaFor } from "./schema.js";
import { deepEqual, isObject, type JsonObject } from "./strategic.js";

/** A FieldsV1 tree: keys are "f:name", "k:{...}", "v:...", or "." (the node itself). */
export type FieldSet = { [pe: string]: FieldSet };

/** Metadata the server owns: never tracked, never taken from an apply body. */
const SYSTEM_METADATA = new Set([
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
]);
/** Identity fields: taken from the body but not owned by anyone (upstream strips them too). */
const UNTRACKED_METADATA = new Set(["name", "namespace"]);

function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(stripNulls);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = stripNulls(x);
    return out;
  }
  return v;
}

/** The list-map keys of a keyed list for apply (sorted, as upstream prints them). */
function keysOf(schema: FieldSchema): string[] {
  return [...(schema.mapKeys ?? [schema.mergeKey as string])].sort();
}

function keyValue(item: JsonObject, k: string): unknown {
  return item[k] ?? MAP_KEY_DEFAULTS[k];
}

/** `k:{"containerPort":80,"protocol":"TCP"}`: an item's identity in FieldsV1. */
function itemKey(item: JsonObject, keys: string[]): string {
  const id: JsonObject = {};
  for (const k of keys) id[k] = keyValue(item, k);
  return `k:${JSON.stringify(id)}`;
}

function sameItem(a: unknown, b: JsonObject, keys: string[]): boolean {
  return isObject(a) && keys.every((k) => deepEqual(keyValue(a, k), keyValue(b, k)));
}

/** The set of fields a value sets, in FieldsV1 form. */
export function fieldsOf(value: unknown, schema: FieldSchema | undefined): FieldSet {
  if (schema?.atomic) return {};
  if (isObject(value)) {
    const out: FieldSet = {};
    for (const [k, v] of Object.entries(value)) out[`f:${k}`] = fieldsOf(v, child(schema, k));
    return out;
  }
  if (Array.isArray(value)) {
    const out: FieldSet = {};
    if (schema?.mergeKey) {
      for (const item of value) {
        if (!isObject(item) || !Object.hasOwn(item, schema.mergeKey)) continue;
        out[itemKey(item, keysOf(schema))] = { ".": {}, ...fieldsOf(item, schema.items) };
      }
    } else if (schema?.set) {
      for (const v of value) out[`v:${JSON.stringify(v)}`] = {};
    }
    return out;
  }
  return {};
}

/** Owned paths of a set: every leaf, plus every node carrying ".". */
function ownedPaths(set: FieldSet, prefix: string[] = [], out: string[][] = []): string[][] {
  for (const [pe, sub] of Object.entries(set)) {
    if (pe === ".") continue;
    const path = [...prefix, pe];
    const children = Object.keys(sub).filter((k) => k !== ".");
    if (children.length === 0 || Object.hasOwn(sub, ".")) out.push(path);
    ownedPaths(sub, path, out);
  }
  return out;
}

function nodeAt(set: FieldSet, path: string[]): FieldSet | undefined {
  let cur: FieldSet | undefined = set;
  for (const pe of path) {
    cur = cur?.[pe];
    if (!cur) return undefined;
  }
  return cur;
}

/** Whether the set owns exactly this path (as a leaf or an item). */
function owns(set: FieldSet, path: string[]): boolean {
  const n = nodeAt(set, path);
  if (!n) return false;
  const children = Object.keys(n).filter((k) => k !== ".");
  return children.length === 0 || Object.hasOwn(n, ".");
}

/** Whether the set owns this path or anything beneath it. */
function ownsWithin(set: FieldSet, path: string[]): boolean {
  return nodeAt(set, path) !== undefined;
}

function removePath(set: FieldSet, path: string[]): void {
  if (path.length === 0) return;
  const parents: FieldSet[] = [set];
  for (const pe of path.slice(0, -1)) {
    const next = parents[parents.length - 1]?.[pe];
    if (!next) return;
    parents.push(next);
  }
  delete parents[parents.length - 1]?.[path[path.length - 1] as string];
  // Prune parents left empty (but an item keeps its "." marker only if it is still owned).
  for (let i = parents.length - 1; i > 0; i--) {
    const node = parents[i] as FieldSet;
    if (Object.keys(node).length > 0) break;
    delete parents[i - 1]?.[path[i - 1] as string];
  }
}

function isEmptySet(set: FieldSet): boolean {
  return Object.keys(set).length === 0;
}

function parseItemKey(pe: string): JsonObject | undefined {
  if (!pe.startsWith("k:")) return undefined;
  try {
    const v: unknown = JSON.parse(pe.slice(2));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function matchesItem(item: unknown, key: JsonObject): boolean {
  return isObject(item) && Object.entries(key).every(([k, v]) => deepEqual(keyValue(item, k), v));
}

const MISSING = Symbol("missing");

function valueAt(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const pe of path) {
    if (pe.startsWith("f:")) {
      if (!isObject(cur) || !Object.hasOwn(cur, pe.slice(2))) return MISSING;
      cur = cur[pe.slice(2)];
    } else if (pe.startsWith("k:")) {
      const key = parseItemKey(pe);
      if (!key || !Array.isArray(cur)) return MISSING;
      const found = cur.find((x) => matchesItem(x, key));
      if (found === undefined) return MISSING;
      cur = found;
    } else if (pe.startsWith("v:")) {
      if (!Array.isArray(cur)) return MISSING;
      const v: unknown = JSON.parse(pe.slice(2));
      if (!cur.some((x) => deepEqual(x, v))) return MISSING;
      cur = v;
    } else return MISSING;
  }
  return cur;
}

/** Removes the value at a path, then the maps and lists that removal left empty (as upstream prunes). */
function removeValueAt(obj: unknown, path: string[]): void {
  removeOne(obj, path);
  for (let n = path.length - 1; n > 1; n--) {
    const v = valueAt(obj, path.slice(0, n));
    const empty = Array.isArray(v) ? v.length === 0 : isObject(v) && Object.keys(v).length === 0;
    if (!empty) break;
    removeOne(obj, path.slice(0, n));
  }
}

function removeOne(obj: unknown, path: string[]): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] as string;
  if (last.startsWith("f:")) {
    if (isObject(parent)) delete parent[last.slice(2)];
  } else if (last.startsWith("k:")) {
    const key = parseItemKey(last);
    if (key && Array.isArray(parent)) {
      for (let i = parent.length - 1; i >= 0; i--) if (matchesItem(parent[i], key)) parent.splice(i, 1);
    }
  } else if (last.startsWith("v:") && Array.isArray(parent)) {
    const v: unknown = JSON.parse(last.slice(2));
    for (let i = parent.length - 1; i >= 0; i--) if (deepEqual(parent[i], v)) parent.splice(i, 1);
  }
}

/** ".spec.template.spec.containers[name=\"nginx\"].image", as upstream prints a path. */
export function pathString(path: string[]): string {
  let s = "";
  for (const pe of path) {
    if (pe.startsWith("f:")) s += `.${pe.slice(2)}`;
    else if (pe.startsWith("k:")) {
      const key = parseItemKey(pe) ?? {};
      s += `[${Object.entries(key)
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(",")}]`;
    } else if (pe.startsWith("v:")) s += `[=${pe.slice(2)}]`;
  }
  return s;
}

/** Server-side-apply merge: maps merge, keyed lists merge by key, sets union, the rest replaced. */
function applyMerge(live: unknown, applied: unknown, schema: FieldSchema | undefined): unknown {
  if (schema?.atomic) return structuredClone(applied);
  if (isObject(applied)) {
    const out: JsonObject = isObject(live) ? live : {};
    for (const [k, v] of Object.entries(applied)) out[k] = applyMerge(out[k], v, child(schema, k));
    return out;
  }
  if (Array.isArray(applied)) {
    const cur = Array.isArray(live) ? live : [];
    if (schema?.mergeKey) {
      const keys = keysOf(schema);
      const out = [...cur];
      for (const item of applied) {
        if (!isObject(item)) continue;
        const idx = out.findIndex((x) => sameItem(x, item, keys));
        if (idx >= 0) out[idx] = applyMerge(out[idx], item, schema.items);
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (schema?.set) {
      const out = [...cur];
      for (const v of applied) if (!out.some((x) => deepEqual(x, v))) out.push(v);
      return out;
    }
    return structuredClone(applied);
  }
  return applied;
}

/**
 * Drops what apply never tracks: apiVersion/kind, system metadata, and status on the main
 * resource when status is a subresource; on the status subresource only status is tracked.
 */
function trackedPart(obj: JsonObject, resource: ResourceInfo, subresource: string | undefined): JsonObject {
  const out: JsonObject = {};
  if (subresource === "status") {
    if (obj.status !== undefined) out.status = obj.status;
    return out;
  }
  for (const [k, v] of Object.entries(obj)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (k === "status" && resource.subresources.some((s) => s.name === "status")) continue;
    if (k === "metadata" && isObject(v)) {
      const meta: JsonObject = {};
      for (const [mk, mv] of Object.entries(v)) {
        if (!SYSTEM_METADATA.has(mk) && !UNTRACKED_METADATA.has(mk)) meta[mk] = mv;
      }
      if (Object.keys(meta).length > 0) out[k] = meta;
      continue;
    }
    out[k] = v;
  }
  return out;
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  resource: ResourceInfo;
  /** "status" when applying to the status subresource: only status is taken and tracked. */
  subresource?: string;
}

export function applyServerSide(live: KubeObject | undefined, applied: KubeObject, o: ApplyOptions): KubeObject {
  if (!isObject(applied)) throw badRequest("the apply configuration must be an object");
  if (!o.manager) throw badRequest("fieldManager is required for apply requests");
  const appliedMeta = isObject(applied.metadata) ? applied.metadata : {};
  if (appliedMeta.managedFields !== undefined && appliedMeta.managedFields !== null)
    throw badRequest("metadata.managedFields must be nil");

  const schema = schemaFor(o.resource.group, o.resource.kind);
  const cfg = stripNulls(applied) as JsonObject;
  const tracked = trackedPart(cfg, o.resource, o.subresource);
  const newSet = fieldsOf(tracked, schema);
  const apiVersion = typeof applied.apiVersion === "string" ? applied.apiVersion : apiVersionOf(o.resource);

  const result = structuredClone(live ?? ({ metadata: {} } as KubeObject)) as KubeObject;
  const entries: ManagedFieldsEntry[] = structuredClone(result.metadata.managedFields ?? []);
  const sub = o.subresource || undefined;
  const isMine = (e: ManagedFieldsEntry) =>
    e.manager === o.manager && e.operation === "Apply" && (e.subresource || undefined) === sub;
  const mine = entries.find(isMine);
  const oldSet = (mine?.fieldsV1 ?? {}) as FieldSet;
  // Entries of the main resource and of /status own disjoint fields, so all Apply entries compete.
  const others = entries.filter((e) => !isMine(e) && e.operation === "Apply" && e.fieldsV1);

  // Conflicts: leaves we set to a value that differs from the live one, owned by another manager.
  const conflicts: Array<{ manager: string; path: string[] }> = [];
  const leaves = ownedPaths(newSet).filter((p) => isEmptySet(nodeAt(newSet, p) ?? {}));
  for (const path of leaves) {
    const liveValue = valueAt(result, path);
    const appliedValue = valueAt(cfg, path);
    if (liveValue !== MISSING && deepEqual(liveValue, appliedValue)) continue;
    for (const e of others) {
      const set = e.fieldsV1 as FieldSet;
      if (!owns(set, path)) continue;
      if (o.force) removePath(set, path);
      else conflicts.push({ manager: e.manager ?? "", path });
    }
  }
  if (conflicts.length > 0) throw conflictError(conflicts);

  // Fields this manager applied before and omits now: removed unless someone else still owns them.
  const stillOwned = (path: string[]) => others.some((e) => ownsWithin(e.fieldsV1 as FieldSet, path));
  const dropped = ownedPaths(oldSet).filter((p) => !ownsWithin(newSet, p) && !stillOwned(p));
  // Shallow paths first: removing a list item before its fields keeps the item findable by key.
  for (const path of dropped.sort((a, b) => a.length - b.length)) removeValueAt(result, path);

  // Merge the configuration in. Identity metadata comes from the body on create.
  const merged = applyMerge(result, tracked, schema) as KubeObject;
  if (!isObject(merged.metadata)) merged.metadata = {};
  if (merged.metadata.name === undefined && typeof appliedMeta.name === "string")
    merged.metadata.name = appliedMeta.name;
  if (merged.metadata.namespace === undefined && typeof appliedMeta.namespace === "string")
    merged.metadata.namespace = appliedMeta.namespace;
  merged.apiVersion = apiVersion;
  if (typeof applied.kind === "string") merged.kind = applied.kind;

  const entry: ManagedFieldsEntry = {
    manager: o.manager,
    operation: "Apply",
    apiVersion,
    time: metaTime(),
    fieldsType: "FieldsV1",
    fieldsV1: newSet,
  };
  if (sub) entry.subresource = sub;
  const next: ManagedFieldsEntry[] = [];
  let placed = false;
  for (const e of entries) {
    if (isMine(e)) {
      next.push(entry);
      placed = true;
    } else if (e.operation === "Apply" && e.fieldsV1 && isEmptySet(e.fieldsV1 as FieldSet)) {
      // A manager forced out of every field no longer manages anything.
    } else next.push(e);
  }
  if (!placed) next.push(entry);
  merged.metadata.managedFields = next;
  return merged;
}

function conflictError(conflicts: Array<{ manager: string; path: string[] }>): StatusError {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const list = byManager.get(c.manager) ?? [];
    list.push(pathString(c.path));
    byManager.set(c.manager, list);
  }
  const parts: string[] = [];
  for (const [manager, paths] of byManager) {
    parts.push(
      paths.length === 1
        ? `conflict with ${JSON.stringify(manager)}: ${paths[0]}`
        : `conflicts with ${JSON.stringify(manager)}:\n${paths.map((p) => `- ${p}`).join("\n")}`,
    );
  }
  const n = conflicts.length;
  const message = `Apply failed with ${n} conflict${n === 1 ? "" : "s"}: ${parts.join("\n")}`;
  return new StatusError(409, "Conflict", message, {
    causes: conflicts.map((c) => ({
      reason: "FieldManagerConflict",
      message: `conflict with ${JSON.stringify(c.manager)}: ${pathString(c.path)}`,
      field: pathString(c.path),
    })),
  });
}
