// Turning anything thrown into a Status answer (upstream: ErrorToAPIStatus). StatusErrors keep
// their code and reason; framework errors with a 4xx statusCode (body too large, bad media
// type) are mapped to their upstream reasons; anything else is a bug and becomes a 500
// InternalError that is logged at error level.

import { omitEmptyDetails, reasonForCode, type Status, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";

export const JSON_TYPE = "application/json";

/** MAX_BODY_BYTES is upstream's request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

interface FrameworkError {
  code?: string;
  statusCode?: number;
  message?: string;
}

/** toStatusError classifies an error; `bug` is true when it should be logged as a server fault. */
export function toStatusError(err: unknown): { error: StatusError; bug: boolean } {
  if (err instanceof StatusError) return { error: err, bug: err.code >= 500 && err.reason === "InternalError" };
  const fe = (err ?? {}) as FrameworkError;
  switch (fe.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return {
        error: new StatusError(413, "RequestEntityTooLarge", `Request entity too large: limit is ${MAX_BODY_BYTES}`),
        bug: false,
      };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return {
        error: new StatusError(fe.statusCode ?? 400, reasonForCode(fe.statusCode ?? 400), fe.message ?? "bad request"),
        bug: false,
      };
  }
  if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    return {
      error: new StatusError(fe.statusCode, reasonForCode(fe.statusCode), fe.message ?? `HTTP ${fe.statusCode}`),
      bug: false,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { error: new StatusError(500, "InternalError", `Internal error occurred: ${message}`), bug: true };
}

/** successStatus is the Status upstream answers for verbs without an object (binding, eviction). */
export function successStatus(code = 201): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code };
}

/**
 * deletedStatus: what a delete that removed the object at once answers (upstream finalizeDelete):
 * Success, with the name, group, resource (as `kind`, as upstream) and uid of what went.
 */
export function deletedStatus(r: ResourceInfo, obj: KubeObject): Omit<Status, "code"> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: omitEmptyDetails({
      name: obj.metadata.name ?? "",
      group: r.group,
      kind: r.resource,
      uid: obj.metadata.uid ?? "",
    }),
  };
}
