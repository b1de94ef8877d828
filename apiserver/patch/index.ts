// Patch application for PATCH requests: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
// Kubernetes strategic merge patch, and server-side apply. Pure functions: the inputs are never
// mutated; errors are StatusErrors (400 for a malformed patch, 422 for a JSON patch that does
// not apply, 409 for apply conflicts).

import fastJsonPatch from "fast-json-patch";
import { badRequest, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { type ResourceInfo, splitApiVersion } from "#pkg/api/resources.js";
import { schemaFor } from "./schema.js";
import { isObject, jsonMergePatch, mergeMap } from "./strategic.js";

export type { FieldSchema } from "./schema.js";
export { schemaAt, schemaFor } from "./schema.js";
export { type ApplyOptions, applyServerSide, type FieldSet, fieldsOf, pathString } from "./ssa.js";
export { jsonMergePatch } from "./strategic.js";

export type PatchKind = "merge" | "json" | "strategic";

/** The patch types by Content-Type, as the HTTP layer receives them. */
export const PATCH_CONTENT_TYPES: Readonly<Record<string, PatchKind | "apply">> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
  "application/apply-patch+yaml": "apply",
};

function asObject(result: unknown, type: PatchKind): KubeObject {
  if (!isObject(result)) throw badRequest(`the ${type} patch did not produce an object`);
  if (!isObject(result.metadata)) result.metadata = {};
  return result as KubeObject;
}

/**
 * Applies a patch of the given type to an object and returns the patched copy. Strategic merge
 * patch picks its list merge keys by the object's kind: from `resource` when given, else from
 * the object's own apiVersion/kind.
 */
export function applyPatch(
  type: PatchKind,
  original: KubeObject,
  patch: unknown,
  resource?: Pick<ResourceInfo, "group" | "kind">,
): KubeObject {
  switch (type) {
    case "merge":
      if (!isObject(patch)) throw badRequest("a merge patch must be a JSON object");
      return asObject(jsonMergePatch(original, patch), type);
    case "strategic": {
      if (!isObject(patch)) throw badRequest("a strategic merge patch must be a JSON object");
      const group =
        resource?.group ?? splitApiVersion(typeof original.apiVersion === "string" ? original.apiVersion : "v1").group;
      const kind = resource?.kind ?? (typeof original.kind === "string" ? original.kind : "");
      return asObject(mergeMap(structuredClone(original), structuredClone(patch), schemaFor(group, kind)), type);
    }
    case "json":
      return asObject(applyJsonPatch(original, patch), type);
    default:
      throw badRequest(`unsupported patch type ${JSON.stringify(type)}`);
  }
}

function applyJsonPatch(original: KubeObject, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest("a JSON patch must be a JSON array of operations");
  const ops = patch as fastJsonPatch.Operation[];
  // Shape errors (unknown op, missing path or value) are the request's fault: 400.
  const shapeError = fastJsonPatch.validate(ops);
  if (shapeError && shapeError.name !== "TEST_OPERATION_FAILED" && isShapeError(shapeError.name))
    throw badRequest(`invalid JSON patch: operation ${shapeError.index ?? 0}: ${firstLine(shapeError.message)}`);
  try {
    return fastJsonPatch.applyPatch(structuredClone(original), ops, true, true, true).newDocument;
  } catch (err) {
    if (err instanceof fastJsonPatch.JsonPatchError) {
      if (isShapeError(err.name))
        throw badRequest(`invalid JSON patch: operation ${err.index ?? 0}: ${firstLine(err.message)}`);
      const op = ops[err.index ?? 0];
      const what =
        err.name === "TEST_OPERATION_FAILED"
          ? `testing value ${op?.path ?? ""} failed`
          : `${op?.op ?? "operation"} operation does not apply: ${firstLine(err.message)} (path ${JSON.stringify(op?.path ?? "")})`;
      throw new StatusError(422, "Invalid", `the server rejected our request due to an error in our request: ${what}`);
    }
    throw err;
  }
}

const SHAPE_ERRORS = new Set([
  "SEQUENCE_NOT_AN_ARRAY",
  "OPERATION_NOT_AN_OBJECT",
  "OPERATION_OP_INVALID",
  "OPERATION_PATH_INVALID",
  "OPERATION_FROM_REQUIRED",
  "OPERATION_VALUE_REQUIRED",
  "OPERATION_VALUE_CANNOT_CONTAIN_UNDEFINED",
]);

function isShapeError(name: string): boolean {
  return SHAPE_ERRORS.has(name);
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? s;
}
