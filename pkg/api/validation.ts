// Generic validation as upstream (k8s.io/apimachinery/pkg/util/validation and
// pkg/api/validation/objectmeta.go): name and label syntax, object metadata, ports, quantities.
// Messages match upstream's text so kubectl users see familiar errors.

import { isIP } from "node:net";
import { type FieldError, fieldForbidden, fieldInvalid, fieldRequired } from "./errors.js";
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, type ObjectMeta } from "./meta.js";
import { isValidQuantity, parseQuantityExact, QUANTITY_FORMAT_MESSAGE } from "./quantity.js";

// ---------------------------------------------------------------- message helpers

/** Upstream's RegexError: "<msg> (e.g. 'a',  or 'b', regex used for validation is '<re>')". */
function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`;
  let s = `${msg} (e.g. `;
  examples.forEach((ex, i) => {
    if (i > 0) s += " or ";
    s += `'${ex}', `;
  });
  return `${s}regex used for validation is '${re}')`;
}

export const maxLenError = (n: number): string => `must be no more than ${n} characters`;
export const emptyError = (): string => "must be non-empty";

export function fieldDuplicate(field: string, value: unknown): FieldError {
  return { field, type: "FieldValueDuplicate", message: `Duplicate value: ${JSON.stringify(value)}` };
}

export function fieldTooLong(field: string, max: number): FieldError {
  return { field, type: "FieldValueTooLong", message: `Too long: must have at most ${max} bytes` };
}

export function fieldImmutable(field: string, value: unknown): FieldError {
  return fieldInvalid(field, value, "field is immutable");
}

// ---------------------------------------------------------------- DNS names

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
export const DNS1123_LABEL_MAX = 63;
export const DNS1123_LABEL_ERROR = regexError(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  "my-name",
  "123-abc",
);

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
export const DNS1123_SUBDOMAIN_MAX = 253;
export const DNS1123_SUBDOMAIN_ERROR = regexError(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  "example.com",
);

const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
export const DNS1035_LABEL_ERROR = regexError(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  "my-name",
  "abc-123",
);

export const isDNS1123Label = (s: string): boolean => s.length <= DNS1123_LABEL_MAX && DNS1123_LABEL_RE.test(s);
export const isDNS1123Subdomain = (s: string): boolean =>
  s.length <= DNS1123_SUBDOMAIN_MAX && DNS1123_SUBDOMAIN_RE.test(s);
export const isDNS1035Label = (s: string): boolean => s.length <= DNS1123_LABEL_MAX && DNS1035_LABEL_RE.test(s);

/** Error messages for s as a DNS-1123 label ([] when valid). */
export function dns1123LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!DNS1123_LABEL_RE.test(s)) errs.push(DNS1123_LABEL_ERROR);
  return errs;
}

export function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!DNS1123_SUBDOMAIN_RE.test(s)) errs.push(DNS1123_SUBDOMAIN_ERROR);
  return errs;
}

export function dns1035LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_LABEL_MAX) errs.push(maxLenError(DNS1123_LABEL_MAX));
  if (!DNS1035_LABEL_RE.test(s)) errs.push(DNS1035_LABEL_ERROR);
  return errs;
}

/**
 * A name validator as upstream's ValidateNameFunc: prefix=true checks a generateName, whose
 * trailing '-' is allowed (a random suffix follows).
 */
export type NameValidator = (name: string, prefix: boolean) => string[];

const maskTrailingDash = (name: string): string =>
  name.length > 1 && name.endsWith("-") ? `${name.slice(0, -2)}a` : name;

export const nameIsDNSSubdomain: NameValidator = (name, prefix) =>
  dns1123SubdomainErrors(prefix ? maskTrailingDash(name) : name);
export const nameIsDNSLabel: NameValidator = (name, prefix) =>
  dns1123LabelErrors(prefix ? maskTrailingDash(name) : name);
export const nameIsDNS1035Label: NameValidator = (name, prefix) =>
  dns1035LabelErrors(prefix ? maskTrailingDash(name) : name);

/** Upstream's path-segment rule, which applies to every object name on top of the kind's rule. */
export function pathSegmentNameErrors(name: string, prefix: boolean): string[] {
  if (!prefix && (name === "." || name === "..")) return [`may not be '${name}'`];
  for (const bad of ["/", "%"]) if (name.includes(bad)) return [`may not contain '${bad}'`];
  return [];
}

// ---------------------------------------------------------------- labels, qualified names

const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_ERROR_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const QUALIFIED_NAME_MAX = 63;

/** Label keys, annotation keys, finalizers: "[prefix/]name" (upstream IsQualifiedName). */
export function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? "";
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
    else for (const msg of dns1123SubdomainErrors(prefix)) errs.push(`prefix part ${msg}`);
  } else {
    return [
      `${regexError(`a qualified name ${QUALIFIED_NAME_ERROR_MSG}`, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (name.length > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(regexError(`name part ${QUALIFIED_NAME_ERROR_MSG}`, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"));
  }
  return errs;
}

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
export const LABEL_VALUE_MAX = 63;

export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE_RE.test(value)) {
    errs.push(
      regexError(
        `a valid label must be an empty string or ${QUALIFIED_NAME_ERROR_MSG}`,
        LABEL_VALUE_FMT,
        "MyValue",
        "my_value",
        "12345",
      ),
    );
  }
  return errs;
}

export const isQualifiedName = (s: string): boolean => qualifiedNameErrors(s).length === 0;
export const isValidLabelValue = (s: string): boolean => labelValueErrors(s).length === 0;

/** Labels map (metadata.labels, nodeSelector, selector.matchLabels). */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== "object" || Array.isArray(labels)) return [fieldInvalid(path, labels, "must be a map")];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const msg of qualifiedNameErrors(k)) errs.push(fieldInvalid(path, k, msg));
    if (typeof v !== "string") errs.push(fieldInvalid(`${path}[${k}]`, v, "must be a string"));
    else for (const msg of labelValueErrors(v)) errs.push(fieldInvalid(path, v, msg));
  }
  return errs;
}

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (annotations === undefined || annotations === null) return [];
  if (typeof annotations !== "object" || Array.isArray(annotations)) {
    return [fieldInvalid(path, annotations, "must be a map")];
  }
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    for (const msg of qualifiedNameErrors(k.toLowerCase())) errs.push(fieldInvalid(path, k, msg));
    if (typeof v !== "string") errs.push(fieldInvalid(`${path}[${k}]`, v, "must be a string"));
    size += Buffer.byteLength(k) + (typeof v === "string" ? Buffer.byteLength(v) : 0);
  }
  if (size > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldTooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

// ---------------------------------------------------------------- object metadata

/**
 * Upstream ValidateObjectMeta: name or generateName, name syntax (nameFn, DNS subdomain by
 * default), namespace required for namespaced kinds and forbidden otherwise, labels, annotations.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  namespaced: boolean,
  path = "metadata",
  nameFn: NameValidator = nameIsDNSSubdomain,
): FieldError[] {
  if (!meta || typeof meta !== "object") return [fieldRequired(path)];
  const errs: FieldError[] = [];
  if (meta.generateName) {
    for (const msg of [...pathSegmentNameErrors(meta.generateName, true), ...nameFn(meta.generateName, true)]) {
      errs.push(fieldInvalid(`${path}.generateName`, meta.generateName, msg));
    }
  }
  if (!meta.name) {
    errs.push(fieldRequired(`${path}.name`, "name or generateName is required"));
  } else {
    for (const msg of [...pathSegmentNameErrors(meta.name, false), ...nameFn(meta.name, false)]) {
      errs.push(fieldInvalid(`${path}.name`, meta.name, msg));
    }
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(fieldRequired(`${path}.namespace`));
    else {
      for (const msg of dns1123LabelErrors(meta.namespace)) {
        errs.push(fieldInvalid(`${path}.namespace`, meta.namespace, msg));
      }
    }
  } else if (meta.namespace) {
    errs.push(fieldForbidden(`${path}.namespace`, "not allowed on this type"));
  }
  if (meta.generation !== undefined && meta.generation < 0) {
    errs.push(fieldInvalid(`${path}.generation`, meta.generation, "must be greater than or equal to 0"));
  }
  errs.push(...validateLabels(meta.labels, `${path}.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  meta.ownerReferences?.forEach((ref, i) => {
    const p = `${path}.ownerReferences[${i}]`;
    if (!ref.apiVersion) errs.push(fieldInvalid(`${p}.apiVersion`, ref.apiVersion ?? "", "version must not be empty"));
    if (!ref.kind) errs.push(fieldInvalid(`${p}.kind`, ref.kind ?? "", "kind must not be empty"));
    if (!ref.name) errs.push(fieldInvalid(`${p}.name`, ref.name ?? "", "name must not be empty"));
    if (!ref.uid) errs.push(fieldInvalid(`${p}.uid`, ref.uid ?? "", "uid must not be empty"));
  });
  if (meta.ownerReferences && meta.ownerReferences.filter((r) => r.controller).length > 1) {
    errs.push(fieldInvalid(`${path}.ownerReferences`, "", "Only one reference can have Controller set to true"));
  }
  meta.finalizers?.forEach((f, i) => {
    for (const msg of qualifiedNameErrors(f)) errs.push(fieldInvalid(`${path}.finalizers[${i}]`, f, msg));
  });
  // upstream ValidateFinalizers: orphaning and foreground deletion exclude each other.
  if (meta.finalizers?.includes(FINALIZER_ORPHAN) && meta.finalizers.includes(FINALIZER_FOREGROUND)) {
    errs.push(
      fieldInvalid(
        `${path}.finalizers`,
        meta.finalizers,
        `finalizer ${FINALIZER_ORPHAN} and ${FINALIZER_FOREGROUND} cannot be both set`,
      ),
    );
  }
  return errs;
}

/**
 * Upstream ValidateObjectMetaUpdate: name, namespace, uid, creationTimestamp are immutable;
 * generation may not go down.
 */
export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta, path = "metadata"): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ["name", "namespace", "uid", "creationTimestamp"] as const) {
    if (old[f] !== undefined && meta[f] !== old[f]) errs.push(fieldImmutable(`${path}.${f}`, meta[f] ?? ""));
  }
  if ((meta.generation ?? 0) < (old.generation ?? 0)) {
    errs.push(fieldInvalid(`${path}.generation`, meta.generation ?? 0, "must not be decremented"));
  }
  // upstream ValidateNoNewFinalizers: once deletion started, finalizers may only go away.
  if (old.deletionTimestamp !== undefined) {
    const had = new Set(old.finalizers ?? []);
    const extra = [...new Set(meta.finalizers ?? [])].filter((f) => !had.has(f)).sort();
    if (extra.length > 0) {
      errs.push(
        fieldForbidden(
          `${path}.finalizers`,
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${extra.map((f) => JSON.stringify(f)).join(", ")}}`,
        ),
      );
    }
  }
  return errs;
}

// ---------------------------------------------------------------- small field helpers

export const PORT_RANGE_ERROR = "must be between 1 and 65535, inclusive";

export function isValidPortNum(p: unknown): boolean {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

export function validatePortNumber(port: unknown, path: string): FieldError[] {
  return isValidPortNum(port) ? [] : [fieldInvalid(path, port, PORT_RANGE_ERROR)];
}

/** IANA_SVC_NAME: what a named port (container port name, targetPort "http") must look like. */
export function portNameErrors(name: string): string[] {
  const errs: string[] = [];
  if (name.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(name)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (name.includes("--")) errs.push("must not contain consecutive hyphens");
  if (!/[a-z]/.test(name)) errs.push("must contain at least one letter (a-z)");
  if (name.startsWith("-") || name.endsWith("-")) errs.push("must not begin or end with a hyphen");
  return errs;
}

export function validatePortName(name: string, path: string): FieldError[] {
  return portNameErrors(name).map((m) => fieldInvalid(path, name, m));
}

/** A port given as number or name (targetPort, probe ports). */
export function validateIntOrStringPort(port: unknown, path: string): FieldError[] {
  if (typeof port === "number") return validatePortNumber(port, path);
  if (typeof port === "string") {
    if (/^[0-9]+$/.test(port)) return validatePortNumber(Number(port), path);
    return validatePortName(port, path);
  }
  return [fieldInvalid(path, port, PORT_RANGE_ERROR)];
}

export const PROTOCOLS = ["SCTP", "TCP", "UDP"] as const;

export const INVALID_IP_ERROR = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/** An IPv4 address as a 32-bit number, or undefined. */
function ipv4Number(ip: string): number | undefined {
  if (isIP(ip) !== 4) return undefined;
  return ip.split(".").reduce((n, p) => n * 256 + Number(p), 0);
}

/**
 * upstream ValidateEndpointIP / ValidateNonSpecialIP: addresses that never name a pod, node or
 * external IP (unspecified, loopback, link-local, link-local multicast). ip must be valid.
 * allowLoopback is kubeling's one difference, for Endpoints and EndpointSlices: a single-host
 * cluster's API server advertises 127.0.0.1 in `default/kubernetes` (upstream refuses that
 * address, and with it such a cluster).
 */
export function validateNonSpecialIP(ip: string, path: string, o: { allowLoopback?: boolean } = {}): FieldError[] {
  const n = ipv4Number(ip);
  const lower = ip.toLowerCase();
  if (n === 0 || lower === "::") return [fieldInvalid(path, ip, "may not be unspecified (0.0.0.0, ::)")];
  if (!o.allowLoopback && ((n !== undefined && n >>> 24 === 127) || lower === "::1"))
    return [fieldInvalid(path, ip, "may not be in the loopback range (127.0.0.0/8, ::1/128)")];
  if ((n !== undefined && n >>> 16 === (169 << 8) + 254) || /^fe[89ab]/.test(lower))
    return [fieldInvalid(path, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")];
  if ((n !== undefined && n >>> 8 === 224 << 16) || lower.startsWith("ff02:"))
    return [fieldInvalid(path, ip, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")];
  return [];
}

/** upstream validation.IsFullyQualifiedDomainName (a trailing dot allowed). */
export function validateFullyQualifiedDomainName(name: string, path: string): FieldError[] {
  if (!name) return [fieldRequired(path)];
  const n = name.endsWith(".") ? name.slice(0, -1) : name;
  const sub = dns1123SubdomainErrors(n);
  if (sub.length > 0) return [fieldInvalid(path, n, sub.join(","))];
  const labels = n.split(".");
  if (labels.length < 2)
    return [fieldInvalid(path, n, "should be a domain with at least two segments separated by dots")];
  for (const label of labels) {
    const errs = dns1123LabelErrors(label);
    if (errs.length > 0) return [fieldInvalid(path, label, errs.join(","))];
  }
  return [];
}

export function validateNonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value !== "number" || !Number.isInteger(value)) return [fieldInvalid(path, value, "must be an integer")];
  return value < 0 ? [fieldInvalid(path, value, "must be greater than or equal to 0")] : [];
}

export function validatePositive(value: unknown, path: string): FieldError[] {
  if (value === undefined) return [];
  if (typeof value !== "number" || !Number.isInteger(value)) return [fieldInvalid(path, value, "must be an integer")];
  return value <= 0 ? [fieldInvalid(path, value, "must be greater than 0")] : [];
}

/** A quantity field: well-formed and (by default) not negative. */
export function validateQuantity(value: unknown, path: string, o: { allowNegative?: boolean } = {}): FieldError[] {
  if (!isValidQuantity(value)) return [fieldInvalid(path, value, QUANTITY_FORMAT_MESSAGE)];
  if (!o.allowNegative && parseQuantityExact(value as string | number).nanos < 0n) {
    return [fieldInvalid(path, value, "must be greater than or equal to 0")];
  }
  return [];
}

export function validateRequiredString(value: unknown, path: string): FieldError[] {
  if (value === undefined || value === null || value === "") return [fieldRequired(path)];
  if (typeof value !== "string") return [fieldInvalid(path, value, "must be a string")];
  return [];
}

const ENV_VAR_FMT = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const ENV_VAR_RE = new RegExp(`^${ENV_VAR_FMT}$`);
export const ENV_VAR_NAME_ERROR = regexError(
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
  ENV_VAR_FMT,
  "my.env-name",
  "MY_ENV.NAME",
  "MyEnvName1",
);

export function envVarNameErrors(name: string): string[] {
  return ENV_VAR_RE.test(name) ? [] : [ENV_VAR_NAME_ERROR];
}

const CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_KEY_RE = new RegExp(`^${CONFIG_KEY_FMT}$`);
export const CONFIG_KEY_ERROR = regexError(
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
  CONFIG_KEY_FMT,
  "key.name",
  "KEY_NAME",
  "key-name",
);

/** upstream hasChDirPrefix: a key that would name the directory itself or its parent. */
export function chDirPrefixErrors(value: string): string[] {
  if (value === "." || value === "..") return [`must not be '${value}'`];
  return value.startsWith("..") ? ["must not start with '..'"] : [];
}

/** upstream IsConfigMapKey: a ConfigMap's or Secret's data key (also a file name in a volume). */
export function configMapKeyErrors(key: string): string[] {
  const errs: string[] = [];
  if (key.length > DNS1123_SUBDOMAIN_MAX) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX));
  if (!CONFIG_KEY_RE.test(key)) errs.push(CONFIG_KEY_ERROR);
  return [...errs, ...chDirPrefixErrors(key)];
}

// ---------------------------------------------------------------- metav1.Condition lists

const CONDITION_REASON_FMT = "[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?";
const CONDITION_REASON_RE = new RegExp(`^${CONDITION_REASON_FMT}$`);
const CONDITION_REASON_ERROR = regexError(
  "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_'",
  CONDITION_REASON_FMT,
  "my_name",
  "MY_NAME",
  "MyName",
  "ReasonA,ReasonB",
  "ReasonA:ReasonB",
);
const CONDITION_STATUSES = ["False", "True", "Unknown"];

interface ConditionLike {
  type?: string;
  status?: string;
  observedGeneration?: number | undefined;
  lastTransitionTime?: string | undefined;
  reason?: string | undefined;
  message?: string | undefined;
}

/** upstream metav1validation.ValidateConditions: each condition well-formed, types unique. */
export function validateConditions(conditions: readonly ConditionLike[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  (conditions ?? []).forEach((c, i) => {
    const p = `${path}[${i}]`;
    const type = c.type ?? "";
    for (const m of qualifiedNameErrors(type)) errs.push(fieldInvalid(`${p}.type`, type, m));
    if (seen.has(type)) errs.push(fieldDuplicate(`${p}.type`, type));
    seen.add(type);
    if (!CONDITION_STATUSES.includes(c.status ?? "")) {
      errs.push({
        field: `${p}.status`,
        type: "FieldValueNotSupported",
        message: `Unsupported value: ${JSON.stringify(c.status ?? "")}: supported values: ${CONDITION_STATUSES.map((s) => `"${s}"`).join(", ")}`,
      });
    }
    if (c.observedGeneration !== undefined && c.observedGeneration < 0)
      errs.push(fieldInvalid(`${p}.observedGeneration`, c.observedGeneration, "must be greater than or equal to zero"));
    if (!c.lastTransitionTime) errs.push(fieldRequired(`${p}.lastTransitionTime`, "must be set"));
    const reason = c.reason ?? "";
    if (reason === "") errs.push(fieldRequired(`${p}.reason`, "must be set"));
    else {
      if (!CONDITION_REASON_RE.test(reason)) errs.push(fieldInvalid(`${p}.reason`, reason, CONDITION_REASON_ERROR));
      if (reason.length > 1024) errs.push(fieldTooLong(`${p}.reason`, 1024));
    }
    if ((c.message ?? "").length > 32768) errs.push(fieldTooLong(`${p}.message`, 32768));
  });
  return errs;
}
