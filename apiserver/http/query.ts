// Query-string parameters of the REST verbs, validated the way upstream does (a bad value is
// a 400 BadRequest, never a 500). Fastify's querystring parser already turns "+" into a space,
// which is how kubectl encodes label selectors.

import { badRequest, type FieldError, fieldInvalid, fieldNotSupported, invalid } from "#pkg/api/errors.js";
import type { DeleteOptions, ListOptions, PropagationPolicy } from "#pkg/api/meta.js";
import { parseBool } from "#pkg/api/strconv.js";

export type Query = Record<string, string | string[] | undefined>;

/** one returns the last value of a repeated parameter (upstream takes the first; both are rare). */
export function one(q: Query, key: string): string | undefined {
  const v = q[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : v;
}

/** bool: a boolean parameter in strconv.ParseBool's spellings (`watch=True` from the Python client); a bare `?watch` is true. */
export function bool(q: Query, key: string): boolean | undefined {
  const v = one(q, key);
  if (v === undefined) return undefined;
  if (v === "") return true;
  const b = parseBool(v);
  if (b === undefined) throw badRequest(`invalid value for ${key}: "${v}" (must be true or false)`);
  return b;
}

/** lenientBool: bool() for code that must not throw (classifying a request), undefined for a bad value. */
export function lenientBool(q: Query, key: string): boolean | undefined {
  try {
    return bool(q, key);
  } catch {
    return undefined;
  }
}

function int(q: Query, key: string, min: number): number | undefined {
  const v = one(q, key);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw badRequest(`invalid value for ${key}: "${v}"`);
  return n;
}

export function isWatch(q: Query): boolean {
  return bool(q, "watch") === true;
}

export function listOptions(q: Query): ListOptions {
  const o: ListOptions = {};
  const labelSelector = one(q, "labelSelector");
  if (labelSelector) o.labelSelector = labelSelector;
  const fieldSelector = one(q, "fieldSelector");
  if (fieldSelector) o.fieldSelector = fieldSelector;
  const rv = one(q, "resourceVersion");
  if (rv !== undefined && rv !== "") o.resourceVersion = rv;
  const rvm = one(q, "resourceVersionMatch");
  if (rvm) {
    if (rvm !== "NotOlderThan" && rvm !== "Exact") {
      throw badRequest(`resourceVersionMatch: Unsupported value: "${rvm}": supported values: "Exact", "NotOlderThan"`);
    }
    o.resourceVersionMatch = rvm;
  }
  const limit = int(q, "limit", 0);
  if (limit !== undefined && limit > 0) o.limit = limit;
  const cont = one(q, "continue");
  if (cont) o.continue = cont;
  const timeoutSeconds = int(q, "timeoutSeconds", 0);
  if (timeoutSeconds !== undefined) o.timeoutSeconds = timeoutSeconds;
  const bookmarks = bool(q, "allowWatchBookmarks");
  if (bookmarks) o.allowWatchBookmarks = true;
  const initial = bool(q, "sendInitialEvents");
  if (initial !== undefined) o.sendInitialEvents = initial;
  return o;
}

export interface WriteParams {
  dryRun: boolean;
  fieldManager: string | undefined;
  fieldValidation: "Strict" | "Warn" | "Ignore";
  force: boolean;
}

export function writeParams(q: Query): WriteParams {
  let dryRun = false;
  const dr = q["dryRun"];
  if (dr !== undefined) {
    for (const v of Array.isArray(dr) ? dr : [dr]) {
      if (v !== "All") throw badRequest(`Invalid dryRun value: "${v}": supported values: "All"`);
      dryRun = true;
    }
  }
  const fv = one(q, "fieldValidation") ?? "Warn"; // upstream's server default
  if (fv !== "Strict" && fv !== "Warn" && fv !== "Ignore") {
    throw badRequest(`fieldValidation: Unsupported value: "${fv}": supported values: "Ignore", "Strict", "Warn"`);
  }
  const fieldManager = one(q, "fieldManager") || undefined;
  if (fieldManager !== undefined && fieldManager.length > 128) {
    throw badRequest("fieldManager: Too long: may not be longer than 128");
  }
  return { dryRun, fieldManager, fieldValidation: fv, force: bool(q, "force") === true };
}

const POLICIES: readonly PropagationPolicy[] = ["Orphan", "Background", "Foreground"];

/**
 * deleteOptions merges a DeleteOptions body (kubectl sends {"propagationPolicy":"Background"})
 * with the query form (gracePeriodSeconds=, propagationPolicy=, orphanDependents=), then checks it
 * as upstream's ValidateDeleteOptions does (422 on a bad policy, or on orphanDependents with one).
 */
export function deleteOptions(body: unknown, q: Query): DeleteOptions {
  const o: DeleteOptions = {};
  if (body !== undefined) {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw badRequest("the body of a DELETE must be a DeleteOptions object");
    }
    const b = body as Record<string, unknown>;
    if (b.kind !== undefined && b.kind !== "DeleteOptions") {
      throw badRequest(`the body of a DELETE must be a DeleteOptions object, not ${JSON.stringify(b.kind)}`);
    }
    if (b.gracePeriodSeconds !== undefined && b.gracePeriodSeconds !== null) {
      if (typeof b.gracePeriodSeconds !== "number" || !Number.isInteger(b.gracePeriodSeconds)) {
        throw badRequest("DeleteOptions.gracePeriodSeconds must be an integer");
      }
      o.gracePeriodSeconds = b.gracePeriodSeconds;
    }
    if (b.propagationPolicy !== undefined && b.propagationPolicy !== null) {
      o.propagationPolicy = b.propagationPolicy as PropagationPolicy;
    }
    if (b.orphanDependents !== undefined && b.orphanDependents !== null) {
      if (typeof b.orphanDependents !== "boolean") throw badRequest("DeleteOptions.orphanDependents must be a boolean");
      o.orphanDependents = b.orphanDependents;
    }
    if (b.preconditions && typeof b.preconditions === "object") {
      o.preconditions = b.preconditions as NonNullable<DeleteOptions["preconditions"]>;
    }
    if (Array.isArray(b.dryRun)) o.dryRun = b.dryRun as string[];
  }
  const grace = int(q, "gracePeriodSeconds", -1);
  if (grace !== undefined) o.gracePeriodSeconds = grace;
  const pp = one(q, "propagationPolicy");
  if (pp) o.propagationPolicy = pp as PropagationPolicy;
  const orphan = bool(q, "orphanDependents");
  if (orphan !== undefined) o.orphanDependents = orphan;
  const errs: FieldError[] = [];
  if (o.orphanDependents !== undefined && o.propagationPolicy !== undefined) {
    errs.push(
      fieldInvalid(
        "propagationPolicy",
        o.propagationPolicy,
        "orphanDependents and deletionPropagation cannot be both set",
      ),
    );
  }
  if (o.propagationPolicy !== undefined && !POLICIES.includes(o.propagationPolicy)) {
    errs.push(
      fieldNotSupported("propagationPolicy", o.propagationPolicy, ["Foreground", "Background", "Orphan", "nil"]),
    );
  }
  if (errs.length > 0) throw invalid("DeleteOptions", "meta.k8s.io", "", errs);
  if (o.dryRun?.some((v) => v !== "All")) {
    throw badRequest(`Invalid dryRun value: supported values: "All"`);
  }
  return o;
}
