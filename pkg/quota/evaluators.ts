// What objects count against a ResourceQuota (upstream pkg/quota/v1/evaluator/core and
// apiserver/pkg/quota/v1/generic): pods (object count, compute requests and limits, the
// "pods" count of pods that are not finished), services (count, node ports, load balancers),
// persistent volume claims (count and requested storage, also per storage class) and, for
// every other resource, its object count `count/<resource>[.<group>]` (plus the legacy
// names configmaps, secrets, replicationcontrollers, resourcequotas, persistentvolumeclaims).
// Shared by the ResourceQuota admission plugin (one object's usage, at write time) and the
// resource quota controller (the namespace's usage, from its caches).

import { podQOSClass } from "../api/defaults.js";
import type { KubeObject } from "../api/meta.js";
import { isValidQuantity, type ParsedQuantity, parseQuantityExact } from "../api/quantity.js";
import type { ResourceInfo } from "../api/resources.js";
import type { Container, Pod, ResourceQuota, ScopedResourceSelectorRequirement, Service } from "../api/types/core.js";
import { claimClass, type PersistentVolumeClaim } from "../api/types/storage.js";
import { add, count, mask, type ResourceList, zeros } from "./resources.js";

export type QuotaOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface GroupResource {
  group: string;
  resource: string;
}

/** upstream quota.Evaluator. */
export interface QuotaEvaluator {
  readonly groupResource: GroupResource;
  /** A write that may change usage (upstream Handles). */
  handles(op: QuotaOperation, subresource: string): boolean;
  /** The quota resource names among names this evaluator accounts for. */
  matchingResources(names: readonly string[]): string[];
  /** Whether a quota's scopes select obj (quotas without scopes select everything). */
  matchesScopes(quota: ResourceQuota, obj: KubeObject): boolean;
  /** What obj lacks for a quota tracking `required` ("must specify ..."), or undefined. */
  constraints(required: readonly string[], obj: KubeObject): string | undefined;
  /** What obj uses. */
  usage(obj: KubeObject, nowMs: number): ResourceList;
}

/** upstream ObjectCountQuotaResourceNameFor: count/pods, count/deployments.apps. */
export function objectCountName(gr: GroupResource): string {
  return gr.group ? `count/${gr.resource}.${gr.group}` : `count/${gr.resource}`;
}

/** The scopes of a quota as selector requirements (spec.scopes are Exists). */
export function quotaScopes(q: ResourceQuota): ScopedResourceSelectorRequirement[] {
  const out: ScopedResourceSelectorRequirement[] = (q.spec?.scopes ?? []).map((s) => ({
    scopeName: s,
    operator: "Exists",
  }));
  out.push(...(q.spec?.scopeSelector?.matchExpressions ?? []));
  return out;
}

/** A quota is in force once the controller has set status.hard (upstream uses status, not spec). */
export function hardOf(q: ResourceQuota): ResourceList {
  const m = new Map<string, ParsedQuantity>();
  for (const [k, v] of Object.entries(q.status?.hard ?? {})) if (isValidQuantity(v)) m.set(k, parseQuantityExact(v));
  return m;
}

/** upstream generic.Matches: the quota tracks one of the evaluator's resources, and its scopes select obj. */
export function quotaMatches(e: QuotaEvaluator, q: ResourceQuota, obj: KubeObject): boolean {
  return e.matchingResources([...hardOf(q).keys()]).length > 0 && e.matchesScopes(q, obj);
}

// ---------------------------------------------------------------- pods

const POD_RESOURCES = new Set([
  "count/pods",
  "cpu",
  "memory",
  "ephemeral-storage",
  "requests.cpu",
  "requests.memory",
  "requests.ephemeral-storage",
  "limits.cpu",
  "limits.memory",
  "limits.ephemeral-storage",
  "pods",
]);

/** Upstream's mistake kept for compatibility: quotas on these make every container declare them. */
const POD_VALIDATION_SET = new Set(["cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]);

/** A resource name with no domain or the kubernetes.io domain (upstream IsNativeResource). */
function isNativeResource(name: string): boolean {
  const slash = name.indexOf("/");
  return slash < 0 || name.slice(0, slash).endsWith("kubernetes.io");
}

const isExtendedResource = (name: string) => !isNativeResource(name) && !name.startsWith("requests.");
const isExtendedResourceForQuota = (name: string) => !isNativeResource(name) && name.startsWith("requests.");

function containerList(c: Container, kind: "requests" | "limits"): ResourceList {
  const m = new Map<string, ParsedQuantity>();
  for (const [k, v] of Object.entries(c.resources?.[kind] ?? {}))
    if (isValidQuantity(v)) m.set(k, parseQuantityExact(v));
  return m;
}

function maxInto(into: ResourceList, r: ResourceList): void {
  for (const [k, v] of r) {
    const cur = into.get(k);
    if (!cur || v.nanos > cur.nanos) into.set(k, v);
  }
}

/**
 * A pod's requests or limits (upstream resourcehelper.PodRequests/PodLimits): the sum of the app
 * containers and the sidecar init containers, at least the largest init container (with the
 * sidecars started before it), plus overhead.
 */
export function podResources(pod: Pod, kind: "requests" | "limits"): ResourceList {
  let reqs: ResourceList = new Map();
  for (const c of pod.spec?.containers ?? []) reqs = add(reqs, containerList(c, kind));
  let sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerList(c, kind);
    if (c.restartPolicy === "Always") {
      reqs = add(reqs, r);
      sidecars = add(sidecars, r);
      maxInto(initMax, sidecars);
    } else maxInto(initMax, add(r, sidecars));
  }
  maxInto(reqs, initMax);
  const overhead = pod.spec?.overhead;
  if (overhead) {
    const o = new Map<string, ParsedQuantity>();
    for (const [k, v] of Object.entries(overhead)) if (isValidQuantity(v)) o.set(k, parseQuantityExact(v));
    // Overhead counts only for what the pod already asks for (upstream addResourceList on existing keys).
    for (const [k, v] of o) if (reqs.has(k) || kind === "requests") reqs = add(reqs, new Map([[k, v]]));
  }
  return reqs;
}

/** upstream podComputeUsageHelper. */
function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = new Map([["pods", count(1)]]);
  for (const r of ["cpu", "memory", "ephemeral-storage"]) {
    const req = requests.get(r);
    if (req) {
      out.set(r, req);
      out.set(`requests.${r}`, req);
    }
    const lim = limits.get(r);
    if (lim) out.set(`limits.${r}`, lim);
  }
  for (const [k, v] of requests) {
    if (k.startsWith("hugepages-")) {
      out.set(k, v);
      out.set(`requests.${k}`, v);
    }
    if (isExtendedResource(k)) out.set(`requests.${k}`, v);
  }
  return out;
}

/** upstream QuotaV1Pod: finished pods, and pods past their deletion grace period, use nothing. */
export function podCountsForQuota(pod: Pod, nowMs: number): boolean {
  const phase = pod.status?.phase;
  if (phase === "Failed" || phase === "Succeeded") return false;
  const deleting = pod.metadata.deletionTimestamp;
  const grace = pod.metadata.deletionGracePeriodSeconds;
  if (deleting && grace !== undefined && nowMs > Date.parse(deleting) + grace * 1000) return false;
  return true;
}

function podMatchesScope(sel: ScopedResourceSelectorRequirement, pod: Pod): boolean {
  const spec = pod.spec;
  switch (sel.scopeName) {
    case "Terminating":
      return spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0;
    case "NotTerminating":
      return !(spec?.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds >= 0);
    case "BestEffort":
      return podQOSClass(spec) === "BestEffort";
    case "NotBestEffort":
      return podQOSClass(spec) !== "BestEffort";
    case "PriorityClass": {
      const pc = spec?.priorityClassName ?? "";
      switch (sel.operator) {
        case "Exists":
          return pc !== "";
        case "DoesNotExist":
          return pc === "";
        case "In":
          return pc !== "" && (sel.values ?? []).includes(pc);
        case "NotIn":
          return pc === "" || !(sel.values ?? []).includes(pc);
        default:
          return false;
      }
    }
    case "CrossNamespacePodAffinity": {
      const terms = [
        ...(spec?.affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
        ...(spec?.affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
          (w) => w.podAffinityTerm,
        ),
        ...(spec?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map(
          (w) => w.podAffinityTerm,
        ),
      ];
      return terms.some((t) => (t.namespaces ?? []).length > 0 || t.namespaceSelector !== undefined);
    }
    default:
      return false;
  }
}

export const podEvaluator: QuotaEvaluator = {
  groupResource: { group: "", resource: "pods" },
  // Pods are charged when created; their usage changes later only by finishing (the controller's).
  handles: (op, subresource) => op === "CREATE" && subresource === "",
  matchingResources: (names) =>
    names.filter(
      (n) =>
        POD_RESOURCES.has(n) ||
        n.startsWith("hugepages-") ||
        n.startsWith("requests.hugepages-") ||
        isExtendedResourceForQuota(n),
    ),
  matchesScopes: (q, obj) => quotaScopes(q).every((s) => podMatchesScope(s, obj as Pod)),
  constraints(required, obj) {
    const pod = obj as Pod;
    const requiredSet = required.filter((r) => POD_VALIDATION_SET.has(r));
    if (requiredSet.length === 0) return undefined;
    const missing = new Map<string, Set<string>>();
    for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
      const has = computeUsage(containerList(c, "requests"), containerList(c, "limits"));
      for (const r of requiredSet) {
        if (has.has(r)) continue;
        const names = missing.get(r) ?? new Set<string>();
        names.add(c.name);
        missing.set(r, names);
      }
    }
    if (missing.size === 0) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...(missing.get(r) ?? [])].sort().join(",")}`);
    return `must specify ${parts.join("; ")}`;
  },
  usage(obj, nowMs) {
    const pod = obj as Pod;
    const result: ResourceList = new Map([["count/pods", count(1)]]);
    if (!podCountsForQuota(pod, nowMs)) return result;
    return add(result, computeUsage(podResources(pod, "requests"), podResources(pod, "limits")));
  },
};

// ---------------------------------------------------------------- services

const SERVICE_RESOURCES = new Set(["count/services", "services", "services.nodeports", "services.loadbalancers"]);

export const serviceEvaluator: QuotaEvaluator = {
  groupResource: { group: "", resource: "services" },
  handles: (op) => op === "CREATE" || op === "UPDATE",
  matchingResources: (names) => names.filter((n) => SERVICE_RESOURCES.has(n)),
  matchesScopes: (q) => quotaScopes(q).length === 0,
  constraints: () => undefined,
  usage(obj) {
    const svc = obj as Service;
    const ports = svc.spec?.ports ?? [];
    const out: ResourceList = new Map([
      ["count/services", count(1)],
      ["services", count(1)],
      ["services.loadbalancers", count(0)],
      ["services.nodeports", count(0)],
    ]);
    if (svc.spec?.type === "NodePort") out.set("services.nodeports", count(ports.length));
    if (svc.spec?.type === "LoadBalancer") {
      const explicitOnly = svc.spec.allocateLoadBalancerNodePorts === false;
      out.set("services.nodeports", count(explicitOnly ? ports.filter((p) => p.nodePort).length : ports.length));
      out.set("services.loadbalancers", count(1));
    }
    return out;
  },
};

// ---------------------------------------------------------------- persistent volume claims

/** What a claim is charged for; each may also be scoped to the claim's class. */
const PVC_RESOURCES = ["persistentvolumeclaims", "requests.storage"];
/** `<class>.storageclass.storage.k8s.io/<resource>`: quota by storage class. */
const STORAGE_CLASS_SUFFIX = ".storageclass.storage.k8s.io/";
const NANO = 1_000_000_000n;

/**
 * upstream pvcEvaluator (evaluator/core/persistent_volume_claims.go): a claim counts once (also
 * in its class) and its storage request, rounded up to whole bytes, counts as requests.storage
 * (also in its class). Creates and updates (a resize) are charged.
 */
export const persistentVolumeClaimEvaluator: QuotaEvaluator = {
  groupResource: { group: "", resource: "persistentvolumeclaims" },
  handles: (op) => op === "CREATE" || op === "UPDATE",
  matchingResources: (names) =>
    names.filter(
      (n) =>
        n === "count/persistentvolumeclaims" ||
        PVC_RESOURCES.includes(n) ||
        PVC_RESOURCES.some((r) => n.endsWith(`${STORAGE_CLASS_SUFFIX}${r}`)),
    ),
  matchesScopes: (q) => quotaScopes(q).length === 0,
  constraints: () => undefined,
  usage(obj) {
    const pvc = obj as PersistentVolumeClaim;
    const cls = claimClass(pvc);
    const result: ResourceList = new Map([
      ["persistentvolumeclaims", count(1)],
      ["count/persistentvolumeclaims", count(1)],
    ]);
    if (cls) result.set(`${cls}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, count(1));
    const req = pvc.spec?.resources?.requests?.storage;
    if (req !== undefined && isValidQuantity(req)) {
      const q = parseQuantityExact(req);
      const rem = q.nanos % NANO;
      const bytes: ParsedQuantity = rem > 0n ? { nanos: q.nanos - rem + NANO, format: q.format } : q;
      result.set("requests.storage", bytes);
      if (cls) result.set(`${cls}${STORAGE_CLASS_SUFFIX}requests.storage`, bytes);
    }
    return result;
  },
};

// ---------------------------------------------------------------- object counts

/** The core resources quota also counts under their bare name (upstream's legacy evaluators). */
const LEGACY_COUNT_NAMES = new Set([
  "configmaps",
  "secrets",
  "replicationcontrollers",
  "resourcequotas",
  "persistentvolumeclaims",
]);

/** upstream generic.NewObjectCountEvaluator: one per object, counted when created. */
export function objectCountEvaluator(gr: GroupResource): QuotaEvaluator {
  const names = [objectCountName(gr)];
  if (gr.group === "" && LEGACY_COUNT_NAMES.has(gr.resource)) names.push(gr.resource);
  return {
    groupResource: gr,
    handles: (op) => op === "CREATE",
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    matchesScopes: (q) => quotaScopes(q).length === 0,
    constraints: () => undefined,
    usage: () => new Map(names.map((n) => [n, count(1)])),
  };
}

/** Resources quota never counts (upstream's ignored resources). */
const IGNORED = new Set(["/events", "events.k8s.io/events"]);

/** The evaluator of a resource, or undefined for one quota ignores. */
export function evaluatorFor(gr: GroupResource): QuotaEvaluator | undefined {
  if (IGNORED.has(`${gr.group}/${gr.resource}`)) return undefined;
  if (gr.group === "" && gr.resource === "pods") return podEvaluator;
  if (gr.group === "" && gr.resource === "services") return serviceEvaluator;
  if (gr.group === "" && gr.resource === "persistentvolumeclaims") return persistentVolumeClaimEvaluator;
  return objectCountEvaluator(gr);
}

/**
 * The evaluators a quota's resource names need, among the served resources: pods and services
 * for their own names, the resource a `count/...` or legacy name counts.
 */
export function evaluatorsForNames(names: readonly string[], resources: readonly ResourceInfo[]): QuotaEvaluator[] {
  const out = new Map<string, QuotaEvaluator>();
  for (const r of resources) {
    const e = evaluatorFor(r);
    if (e && e.matchingResources(names).length > 0) out.set(`${r.group}/${r.resource}`, e);
  }
  return [...out.values()];
}

/**
 * upstream CalculateUsageStats: what objects (one namespace's, of e's resource) use of the
 * quota's resources, zero for what none uses.
 */
export function usageOf(
  e: QuotaEvaluator,
  quota: ResourceQuota,
  names: readonly string[],
  objects: readonly KubeObject[],
  nowMs: number,
): ResourceList {
  const matching = e.matchingResources(names);
  let used = zeros(matching);
  for (const obj of objects) {
    if (!e.matchesScopes(quota, obj)) continue;
    used = add(used, mask(e.usage(obj, nowMs), matching));
  }
  return used;
}
