// The Status object (the wire form of every API error) and StatusError, the one error class
// that carries it in code. The server throws StatusErrors; the client rebuilds them from
// response bodies, so `isNotFound(err)` works the same on both sides. StatusErrors carry a
// registered-symbol brand: a process that loads pkg/ twice (the TypeScript sources and the built
// dist/ copy) has two StatusError classes, and `instanceof` and the is* predicates still hold
// across them.

export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "Gone"
  | "Expired"
  | "RequestEntityTooLarge"
  | "TooManyRequests"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "Timeout"
  | "ServiceUnavailable"
  | "InternalError"
  | "Unknown";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Success" | "Failure";
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

/** Symbol.for, not Symbol(): every copy of this module gets the same symbol. */
const STATUS_ERROR_BRAND: unique symbol = Symbol.for("kubeling.io/StatusError");

/** True for a StatusError made by any loaded copy of this module. */
export function isStatusError(err: unknown): err is StatusError {
  return (
    typeof err === "object" && err !== null && (err as { [STATUS_ERROR_BRAND]?: unknown })[STATUS_ERROR_BRAND] === true
  );
}

/** The details as upstream serializes them: every field is omitempty (no `"group": ""` for core kinds). */
export function omitEmptyDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  if (d.name) out.name = d.name;
  if (d.group) out.group = d.group;
  if (d.kind) out.kind = d.kind;
  if (d.uid) out.uid = d.uid;
  if (d.causes?.length) out.causes = d.causes;
  if (d.retryAfterSeconds) out.retryAfterSeconds = d.retryAfterSeconds;
  return out;
}

export class StatusError extends Error {
  readonly [STATUS_ERROR_BRAND] = true;
  readonly code: number;
  readonly reason: StatusReason | string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: StatusReason | string, message: string, details?: StatusDetails) {
    super(message);
    this.name = "StatusError";
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** `instanceof StatusError` is the brand check, so it holds for another copy's StatusErrors too. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isStatusError(value);
  }

  toStatus(): Status {
    const status: Status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = omitEmptyDetails(this.details);
    return status;
  }

  static fromStatus(status: Partial<Status>, httpCode?: number): StatusError {
    const code = status.code ?? httpCode ?? 500;
    return new StatusError(
      code,
      status.reason ?? reasonForCode(code),
      status.message ?? `HTTP ${code}`,
      status.details,
    );
  }
}

export function isStatus(value: unknown): value is Status {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "Status";
}

/** A StatusError from an error response body: the Status it holds, else one made from the HTTP code. */
export function statusErrorFromBody(statusCode: number, text: string): StatusError {
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isStatus(parsed)) return StatusError.fromStatus(parsed, statusCode);
  const snippet = text.trim().slice(0, 500);
  const message = snippet
    ? `the server responded with HTTP ${statusCode}: ${snippet}`
    : `the server responded with HTTP ${statusCode}`;
  return new StatusError(statusCode, reasonForCode(statusCode), message);
}

export function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return code >= 500 ? "InternalError" : "Unknown";
  }
}

/** "deployments.apps" or "pods": how upstream names a resource in messages. */
export interface QualifiedResource {
  group: string;
  resource: string;
}

function qualified(r: QualifiedResource): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

export function notFound(r: QualifiedResource, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualified(r)} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function alreadyExists(r: QualifiedResource, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

export function conflict(r: QualifiedResource, name: string, why: string): StatusError {
  return new StatusError(409, "Conflict", `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
    name,
    group: r.group,
    kind: r.resource,
  });
}

/** A field-level validation failure, as upstream's field.Error. */
export interface FieldError {
  field: string;
  /** "FieldValueInvalid", "FieldValueRequired", "FieldValueNotSupported", "FieldValueForbidden", "FieldValueDuplicate", "FieldValueTooLong" */
  type: string;
  message: string;
}

const GO_LITERAL: unique symbol = Symbol("kubeling.goLiteral");

/** A value that upstream's field errors print with Go's %#v (a slice: `[]string{"a", "b"}`). */
export interface GoLiteral {
  readonly [GO_LITERAL]: string;
}

/** goSlice: strings as Go prints a slice of them, `[]string{"10.0.0.1"}` (type: the element type). */
export function goSlice(values: readonly string[], type = "string"): GoLiteral {
  return { [GO_LITERAL]: `[]${type}{${values.map((v) => JSON.stringify(v)).join(", ")}}` };
}

function renderValue(value: unknown): string {
  if (typeof value === "object" && value !== null && GO_LITERAL in value) return (value as GoLiteral)[GO_LITERAL];
  return JSON.stringify(value);
}

export function fieldInvalid(field: string, value: unknown, detail: string): FieldError {
  return { field, type: "FieldValueInvalid", message: `Invalid value: ${renderValue(value)}: ${detail}` };
}

export function fieldRequired(field: string, detail = ""): FieldError {
  return { field, type: "FieldValueRequired", message: detail ? `Required value: ${detail}` : "Required value" };
}

export function fieldForbidden(field: string, detail: string): FieldError {
  return { field, type: "FieldValueForbidden", message: `Forbidden: ${detail}` };
}

export function fieldNotSupported(field: string, value: unknown, supported: readonly string[]): FieldError {
  return {
    field,
    type: "FieldValueNotSupported",
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
  };
}

export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const list = errors.map((e) => `${e.field}: ${e.message}`).join(", ");
  const message = `${kind}${group ? `.${group}` : ""} "${name}" is invalid: ${errors.length > 1 ? `[${list}]` : list}`;
  return new StatusError(422, "Invalid", message, {
    name,
    group,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

export function unauthorized(message = "Unauthorized"): StatusError {
  return new StatusError(401, "Unauthorized", message);
}

export function forbidden(message: string): StatusError {
  return new StatusError(403, "Forbidden", message);
}

export function expired(message: string): StatusError {
  return new StatusError(410, "Expired", message);
}

export function tooLarge(message: string): StatusError {
  return new StatusError(413, "RequestEntityTooLarge", message);
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, "MethodNotAllowed", message);
}

export function unsupportedMediaType(message: string): StatusError {
  return new StatusError(415, "UnsupportedMediaType", message);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, "InternalError", message);
}

function hasReason(err: unknown, reason: string): boolean {
  return isStatusError(err) && err.reason === reason;
}

export const isNotFound = (err: unknown): boolean => hasReason(err, "NotFound");
export const isAlreadyExists = (err: unknown): boolean => hasReason(err, "AlreadyExists");
export const isConflict = (err: unknown): boolean => hasReason(err, "Conflict");
export const isInvalid = (err: unknown): boolean => hasReason(err, "Invalid");
export const isGone = (err: unknown): boolean =>
  isStatusError(err) && (err.code === 410 || err.reason === "Expired" || err.reason === "Gone");
