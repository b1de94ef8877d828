// Strategic merge patch (upstream: apimachinery/pkg/util/strategicpatch), for the directives
// kubectl produces: merge keys, `$patch: replace|delete|merge`, `$retainKeys`,
// `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, and `null` deleting a field.
// Works on plain JSON values; callers pass clones (nothing here mutates its inputs' originals
// beyond the `original` tree handed to it, which index.ts clones first).

import { badRequest } from "#pkg/api/errors.js";
import { child, type FieldSchema } from "./schema.js";

export type JsonObject = { [key: string]: unknown };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

const PATCH = "$patch";
const RETAIN_KEYS = "$retainKeys";
const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

function fail(message: string): never {
  throw badRequest(`strategic merge patch: ${message}`);
}

/** Merges a strategic patch map into an original map (the original is modified and returned). */
export function mergeMap(original: JsonObject, patch: JsonObject, schema: FieldSchema | undefined): JsonObject {
  const directive = patch[PATCH];
  if (directive !== undefined) {
    if (directive === "replace") {
      const { [PATCH]: _, ...rest } = patch;
      return mergeMap({}, rest, schema);
    }
    if (directive === "delete") return {};
    if (directive !== "merge") fail(`unknown patch type: ${JSON.stringify(directive)} in map`);
  }

  const retain = patch[RETAIN_KEYS];
  if (retain !== undefined) {
    if (!Array.isArray(retain) || !retain.every((k) => typeof k === "string"))
      fail("$retainKeys must be a list of strings");
    for (const k of Object.keys(patch)) {
      if (!k.startsWith("$") && patch[k] !== null && !retain.includes(k))
        fail(`the patch has ${JSON.stringify(k)}, which is not present in $retainKeys ${JSON.stringify(retain)}`);
    }
    for (const k of Object.keys(original)) if (!retain.includes(k)) delete original[k];
  }

  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(DELETE_PRIMITIVE)) continue;
    const field = k.slice(DELETE_PRIMITIVE.length);
    if (!Array.isArray(v)) fail(`${k} must be a list`);
    const cur = original[field];
    if (Array.isArray(cur)) original[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
  }

  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    if (v === null) {
      delete original[k];
      continue;
    }
    original[k] = mergeValue(original[k], v, child(schema, k));
  }

  for (const [k, v] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    if (!Array.isArray(v)) fail(`${k} must be a list`);
    const cur = original[field];
    if (Array.isArray(cur)) original[field] = applyOrder(cur, v, child(schema, field));
  }
  return original;
}

function mergeValue(original: unknown, patch: unknown, schema: FieldSchema | undefined): unknown {
  if (isObject(patch)) return mergeMap(isObject(original) ? original : {}, patch, schema);
  if (Array.isArray(patch)) {
    const orig = Array.isArray(original) ? original : [];
    if (schema?.mergeKey) return mergeKeyedList(orig, patch, schema.mergeKey, schema.items);
    if (schema?.set) return mergeSet(orig, patch);
    // Atomic list: replaced; elements still lose any directives and nulls they carry.
    return patch
      .filter((el) => !(isObject(el) && el[PATCH] !== undefined))
      .map((el) => mergeValue(undefined, el, undefined));
  }
  return patch;
}

function mergeKeyedList(original: unknown[], patch: unknown[], key: string, items: FieldSchema | undefined): unknown[] {
  if (patch.some((el) => isObject(el) && el[PATCH] === "replace" && Object.keys(el).length === 1)) {
    return patch
      .filter((el) => !(isObject(el) && el[PATCH] === "replace" && Object.keys(el).length === 1))
      .map((el) => mergeValue(undefined, el, items));
  }
  const result = [...original];
  for (const el of patch) {
    if (!isObject(el)) {
      // A scalar in a keyed list: upstream rejects; treat as a set member to stay lenient.
      if (!result.some((x) => deepEqual(x, el))) result.push(el);
      continue;
    }
    if (!Object.hasOwn(el, key)) fail(`map: ${JSON.stringify(el)} does not contain declared merge key: ${key}`);
    const matches = (x: unknown) => isObject(x) && deepEqual(x[key], el[key]);
    const directive = el[PATCH];
    if (directive === "delete") {
      for (let i = result.length - 1; i >= 0; i--) if (matches(result[i])) result.splice(i, 1);
      continue;
    }
    const idx = result.findIndex(matches);
    if (idx >= 0) result[idx] = mergeMap(result[idx] as JsonObject, el, items);
    else result.push(mergeMap({}, el, items));
  }
  return result;
}

function mergeSet(original: unknown[], patch: unknown[]): unknown[] {
  const result = [...original];
  for (const v of patch) if (!result.some((x) => deepEqual(x, v))) result.push(v);
  return result;
}

/**
 * `$setElementOrder`: the items named in the order list take the positions those items occupy,
 * in the listed order; items the order does not name (server-only ones) keep their places.
 */
function applyOrder(list: unknown[], order: unknown[], schema: FieldSchema | undefined): unknown[] {
  const key = schema?.mergeKey;
  const identity = (x: unknown): unknown => (key && isObject(x) ? x[key] : x);
  const orderIds = order.map(identity);
  const rank = (x: unknown): number => orderIds.findIndex((o) => deepEqual(o, identity(x)));
  const positions: number[] = [];
  const ordered: unknown[] = [];
  list.forEach((x, i) => {
    if (rank(x) >= 0) {
      positions.push(i);
      ordered.push(x);
    }
  });
  ordered.sort((a, b) => rank(a) - rank(b));
  const result = [...list];
  positions.forEach((p, i) => {
    result[p] = ordered[i];
  });
  return result;
}

/** RFC 7386 JSON merge patch. Returns a new value; never mutates either argument. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = jsonMergePatch(result[k], v);
  }
  return result;
}
