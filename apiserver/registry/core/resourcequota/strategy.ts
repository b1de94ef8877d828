// core/v1 ResourceQuota (upstream pkg/registry/core/resourcequota/strategy.go,
// ValidateResourceQuota, printers.go printResourceQuota). Users write spec.hard (and scopes);
// status.hard and status.used belong to the resource quota controller and quota admission,
// through the status subresource. Quantities are stored canonical.

import { type FieldError, fieldInvalid, fieldNotSupported } from "#pkg/api/errors.js";
import { canonicalQuantity, formatQuantity, isValidQuantity, parseQuantityExact } from "#pkg/api/quantity.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { ResourceQuota } from "#pkg/api/types/core.js";
import { qualifiedNameErrors, validateQuantity } from "#pkg/api/validation.js";
import { age, ageCol, col, isObject, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

/** upstream standardQuotaResources. */
const STANDARD_QUOTA_RESOURCES = new Set([
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.storage",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
  "resourcequotas",
  "services",
  "replicationcontrollers",
  "secrets",
  "persistentvolumeclaims",
  "configmaps",
  "services.nodeports",
  "services.loadbalancers",
]);

/** upstream integerResources: object counts must be whole. */
const INTEGER_RESOURCES = new Set([
  "pods",
  "resourcequotas",
  "services",
  "replicationcontrollers",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);

export const QUOTA_SCOPES = [
  "Terminating",
  "NotTerminating",
  "BestEffort",
  "NotBestEffort",
  "PriorityClass",
  "CrossNamespacePodAffinity",
] as const;

const isStandardQuotaResource = (name: string) =>
  STANDARD_QUOTA_RESOURCES.has(name) || name.startsWith("hugepages-") || name.startsWith("requests.hugepages-");

/** upstream validateResourceQuotaResourceName. */
function validateResourceName(name: string, path: string): FieldError[] {
  const errs = qualifiedNameErrors(name).map((m) => fieldInvalid(path, name, m));
  if (!name.includes("/") && !isStandardQuotaResource(name))
    errs.push(fieldInvalid(path, name, "must be a standard resource for quota"));
  return errs;
}

/** upstream ValidateResourceQuantityValue. */
function validateQuantityValue(name: string, value: unknown, path: string): FieldError[] {
  const errs = validateQuantity(value, path);
  if (errs.length > 0) return errs;
  if (INTEGER_RESOURCES.has(name) && parseQuantityExact(value as string | number).nanos % 1_000_000_000n !== 0n)
    return [fieldInvalid(path, value, "must be an integer")];
  return [];
}

function validateHard(hard: Record<string, unknown> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(hard ?? {})) {
    const p = `${path}[${k}]`;
    errs.push(...validateResourceName(k, p), ...validateQuantityValue(k, v, p));
  }
  return errs;
}

/** upstream ValidateResourceQuota (spec and status). */
export function validateResourceQuota(q: ResourceQuota): FieldError[] {
  const errs = validateHard(q.spec?.hard, "spec.hard");
  (q.spec?.scopes ?? []).forEach((s, i) => {
    if (!(QUOTA_SCOPES as readonly string[]).includes(s))
      errs.push(fieldInvalid(`spec.scopes[${i}]`, s, "unsupported scope"));
  });
  (q.spec?.scopeSelector?.matchExpressions ?? []).forEach((e, i) => {
    const p = `spec.scopeSelector.matchExpressions[${i}]`;
    if (!(QUOTA_SCOPES as readonly string[]).includes(e.scopeName))
      errs.push(fieldInvalid(`${p}.scopeName`, e.scopeName, "unsupported scope"));
    if (!["In", "NotIn", "Exists", "DoesNotExist"].includes(e.operator))
      errs.push(fieldNotSupported(`${p}.operator`, e.operator, ["DoesNotExist", "Exists", "In", "NotIn"]));
  });
  errs.push(...validateHard(q.status?.hard, "status.hard"), ...validateHard(q.status?.used, "status.used"));
  return errs;
}

function canonicalize(m: Record<string, string | number> | undefined): void {
  if (!isObject(m)) return;
  for (const [k, v] of Object.entries(m)) if (isValidQuantity(v)) m[k] = canonicalQuantity(v);
}

/** kubectl get quota's REQUEST and LIMIT cells: "pods: 1/2, requests.cpu: 0/1" (used/hard). */
export function quotaCells(q: ResourceQuota): [string, string] {
  const hard = q.status?.hard ?? {};
  const used = q.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    const u = used[name];
    const usedText = u !== undefined && isValidQuantity(u) ? formatQuantity(parseQuantityExact(u)) : "0";
    const h = hard[name];
    const hardText = h !== undefined && isValidQuantity(h) ? formatQuantity(parseQuantityExact(h)) : "0";
    const pieces = name.split(".");
    (pieces.length > 1 && pieces[0] === "limits" ? limit : request).push(`${name}: ${usedText}/${hardText}`);
  }
  return [request.join(", "), limit.join(", ")];
}

export function resourceQuotaStrategy(r: ResourceInfo): Strategy<ResourceQuota> {
  return makeStrategy<ResourceQuota>(r, {
    applyDefaults(q) {
      canonicalize(q.spec?.hard);
      canonicalize(q.status?.hard);
      canonicalize(q.status?.used);
    },
    validate: validateResourceQuota,
    validateUpdate: validateResourceQuota,
    columns: [
      nameCol(),
      ageCol(),
      col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
      col(
        "Limit",
        "string",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
      ),
    ],
    row: (q, now) => [q.metadata.name ?? "", age(q, now), ...quotaCells(q)],
  });
}
