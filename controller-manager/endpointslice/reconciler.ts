// The EndpointSlice reconciler (upstream staging/src/k8s.io/endpointslice/reconciler.go): from a
// Service, the pods it selects and its existing slices, the slices to create, update and delete.
// Endpoints are grouped by their set of ports (a named targetPort may resolve differently per
// pod), at most maxEndpointsPerSlice a slice; an endpoint stays in the slice it is in, new ones
// fill the slices being written anyway before an unchanged one is touched, and a new slice is made
// only when nothing fits. A Service with no endpoints keeps one empty placeholder slice.

import type { Node, Pod, Service } from "#pkg/api/types/core.js";
import {
  type Endpoint,
  type EndpointSlice,
  type EndpointSlicePort,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
} from "#pkg/api/types/discovery.js";
import { isDNS1123Subdomain } from "#pkg/api/validation.js";
import {
  findPort,
  isPodReady,
  podHostnameForService,
  podIPForFamily,
  shouldPodBeInEndpoints,
} from "../endpointutil/util.js";
import { EndpointSet, endpointsEqualBeyondKey, portMapKey } from "./endpoint-set.js";

/** The managed-by value of this controller's slices. */
export const CONTROLLER_NAME = "endpointslice-controller.k8s.io";
/** Set on the slices (and Endpoints) of a headless Service. */
export const LABEL_HEADLESS = "service.kubernetes.io/headless";
/** upstream --max-endpoints-per-slice default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;
const LABEL_ZONE = "topology.kubernetes.io/zone";

type AddressType = "IPv4" | "IPv6";

export interface SliceChanges {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out because their Node does not exist (the sync is retried). */
  missingNodes: string[];
}

/** upstream getAddressTypesForService: the slices' address types from ipFamilies. */
export function addressTypesForService(svc: Service): AddressType[] {
  const fams = (svc.spec?.ipFamilies ?? []).filter((f): f is AddressType => f === "IPv4" || f === "IPv6");
  if (fams.length > 0) return [...new Set(fams)];
  const ip = svc.spec?.clusterIP;
  return [ip?.includes(":") ? "IPv6" : "IPv4"];
}

/** upstream ownedBy: the slice's controller is this Service. */
export function ownedBy(slice: EndpointSlice, svc: Service): boolean {
  return (slice.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && r.kind === "Service" && r.apiVersion === "v1" && r.uid === svc.metadata.uid,
  );
}

const RESERVED = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS]);

/** upstream setEndpointSliceLabels: the Service's labels plus the reserved ones. */
export function sliceLabels(svc: Service, controllerName: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata.labels ?? {})) if (!RESERVED.has(k)) labels[k] = v;
  const ip = svc.spec?.clusterIP;
  if (!ip || ip === "None") labels[LABEL_HEADLESS] = "";
  labels[LABEL_SERVICE_NAME] = svc.metadata.name ?? "";
  labels[LABEL_MANAGED_BY] = controllerName;
  return labels;
}

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => b?.[k] === a?.[k]);
}

/** upstream getEndpointSlicePrefix: "<svc>-" when that is a valid generateName. */
export function slicePrefix(serviceName: string): string {
  const prefix = `${serviceName}-`;
  return isDNS1123Subdomain(`${prefix}a`) ? prefix : serviceName;
}

/** upstream getEndpointPorts: the service ports this pod serves, named target ports resolved. */
export function endpointPorts(svc: Service, pod: Pod): EndpointSlicePort[] {
  const out: EndpointSlicePort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({
      name: sp.name ?? "",
      port,
      protocol: sp.protocol ?? "TCP",
      ...(sp.appProtocol !== undefined ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

/** upstream podToEndpoint: ready = serving and not terminating (or publishNotReadyAddresses). */
export function podToEndpoint(pod: Pod, node: Node | undefined, svc: Service, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined;
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ip = podIPForFamily(pod, addressType);
  const ep: Endpoint = {
    addresses: ip ? [ip] : [],
    conditions: { ready, serving, terminating },
    targetRef: {
      kind: "Pod",
      namespace: pod.metadata.namespace ?? "",
      name: pod.metadata.name ?? "",
      uid: pod.metadata.uid ?? "",
    },
  };
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  const hostname = podHostnameForService(pod, svc);
  if (hostname) ep.hostname = hostname;
  return ep;
}

export interface ReconcileInput {
  svc: Service;
  pods: readonly Pod[];
  existing: readonly EndpointSlice[];
  nodeOf: (name: string) => Node | undefined;
  maxEndpointsPerSlice: number;
  controllerName?: string;
}

function newSlice(svc: Service, ports: EndpointSlicePort[], addressType: AddressType, controllerName: string) {
  const slice: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: slicePrefix(svc.metadata.name ?? ""),
      namespace: svc.metadata.namespace ?? "",
      labels: sliceLabels(svc, controllerName),
      ownerReferences: [
        {
          apiVersion: "v1",
          kind: "Service",
          name: svc.metadata.name ?? "",
          uid: svc.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    addressType,
    endpoints: [],
    ports,
  };
  return slice;
}

/** upstream Reconcile: the changes that bring a Service's slices to its pods. */
export function reconcile(input: ReconcileInput): SliceChanges {
  const { svc } = input;
  const controllerName = input.controllerName ?? CONTROLLER_NAME;
  const out: SliceChanges = { create: [], update: [], delete: [], missingNodes: [] };
  const types = addressTypesForService(svc);
  const byType = new Map<string, EndpointSlice[]>();
  for (const s of input.existing) {
    if (!(types as string[]).includes(s.addressType)) {
      out.delete.push(s);
      continue;
    }
    byType.set(s.addressType, [...(byType.get(s.addressType) ?? []), s]);
  }
  for (const t of types) reconcileByAddressType(input, controllerName, t, byType.get(t) ?? [], out);
  return out;
}

function reconcileByAddressType(
  input: ReconcileInput,
  controllerName: string,
  addressType: AddressType,
  existing: readonly EndpointSlice[],
  out: SliceChanges,
): void {
  const { svc } = input;
  const create: EndpointSlice[] = [];
  const update: EndpointSlice[] = [];
  const del: EndpointSlice[] = [];
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const s of existing) {
    if (!ownedBy(s, svc)) {
      del.push(s);
      continue;
    }
    const k = portMapKey(s.ports);
    existingByPorts.set(k, [...(existingByPorts.get(k) ?? []), s]);
  }
  const desired = new Map<string, { ports: EndpointSlicePort[]; set: EndpointSet }>();
  for (const pod of input.pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    // A headless Service without ports still gets its addresses.
    const ports = endpointPorts(svc, pod);
    const k = portMapKey(ports);
    let d = desired.get(k);
    if (!d) {
      d = { ports, set: new EndpointSet() };
      desired.set(k, d);
    }
    const nodeName = pod.spec?.nodeName ?? "";
    const node = input.nodeOf(nodeName);
    if (!node && svc.spec?.publishNotReadyAddresses !== true) {
      out.missingNodes.push(nodeName);
      continue;
    }
    const ep = podToEndpoint(pod, node, svc, addressType);
    if (ep.addresses.length > 0) d.set.insert(ep);
  }
  for (const [k, d] of desired) {
    const r = reconcileByPortMapping(
      svc,
      controllerName,
      existingByPorts.get(k) ?? [],
      d.set,
      d.ports,
      addressType,
      input.maxEndpointsPerSlice,
    );
    create.push(...r.create);
    update.push(...r.update);
    del.push(...r.delete);
  }
  for (const [k, slices] of existingByPorts) if (!desired.has(k)) del.push(...slices);
  // No slice would exist: keep (or make) one empty placeholder.
  if (existing.length === del.length && create.length === 0) {
    const placeholder = newSlice(svc, [], addressType, controllerName);
    const [only] = del;
    if (del.length === 1 && only && isPlaceholderLike(only, placeholder)) del.length = 0;
    else create.push(placeholder);
  }
  // Turn creates into updates of slices that would be deleted (fewer writes, stable names).
  for (let i = 0; i < del.length && create.length > 0; ) {
    const victim = del[i] as EndpointSlice;
    const replacement = create[create.length - 1] as EndpointSlice;
    if (victim.addressType === replacement.addressType && ownedBy(victim, svc)) {
      const next = structuredClone(victim);
      next.metadata.labels = replacement.metadata.labels ?? {};
      next.ports = replacement.ports ?? [];
      next.endpoints = replacement.endpoints;
      create.pop();
      update.push(next);
      del.splice(i, 1);
    } else i++;
  }
  out.create.push(...create);
  out.update.push(...update);
  out.delete.push(...del);
}

/** upstream placeholderSliceCompare: an empty slice of the same type, ports, labels and owner. */
function isPlaceholderLike(s: EndpointSlice, placeholder: EndpointSlice): boolean {
  return (
    s.addressType === placeholder.addressType &&
    (s.endpoints ?? []).length === 0 &&
    (s.ports ?? []).length === 0 &&
    sameMap(s.metadata.labels, placeholder.metadata.labels) &&
    JSON.stringify(s.metadata.ownerReferences?.map((r) => r.uid)) ===
      JSON.stringify(placeholder.metadata.ownerReferences?.map((r) => r.uid))
  );
}

function reconcileByPortMapping(
  svc: Service,
  controllerName: string,
  existing: readonly EndpointSlice[],
  desired: EndpointSet,
  ports: EndpointSlicePort[],
  addressType: AddressType,
  max: number,
): { create: EndpointSlice[]; update: EndpointSlice[]; delete: EndpointSlice[] } {
  const labels = sliceLabels(svc, controllerName);
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();
  // 1. Keep the endpoints still wanted where they are, with their new state.
  for (const s of existing) {
    const name = s.metadata.name ?? "";
    byName.set(name, s);
    const kept: Endpoint[] = [];
    let changed = false;
    for (const e of s.endpoints ?? []) {
      const want = desired.get(e);
      if (!want) continue;
      kept.push(want);
      if (!endpointsEqualBeyondKey(want, e)) changed = true;
      desired.delete(e);
    }
    const labelsChanged = !sameMap(s.metadata.labels, labels);
    if (changed || kept.length !== (s.endpoints ?? []).length) {
      if (kept.length === 0) toDelete.add(name);
      else {
        const next = structuredClone(s);
        next.endpoints = kept;
        next.metadata.labels = labels;
        byName.set(name, next);
        toUpdate.add(name);
      }
    } else if (labelsChanged) {
      const next = structuredClone(s);
      next.metadata.labels = labels;
      byName.set(name, next);
      toUpdate.add(name);
    } else unchanged.add(name);
  }
  // 2. New endpoints fill the slices being written anyway, fullest first.
  if (desired.size > 0 && toUpdate.size > 0) {
    const slices = [...toUpdate].map((n) => byName.get(n) as EndpointSlice);
    slices.sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length);
    for (const s of slices)
      while (desired.size > 0 && s.endpoints.length < max) s.endpoints.push(desired.pop() as Endpoint);
  }
  // 3. Then an unchanged slice they all fit in (the fullest such), else new slices.
  const create: EndpointSlice[] = [];
  while (desired.size > 0) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size > 0) {
      let best: EndpointSlice | undefined;
      for (const n of unchanged) {
        const s = byName.get(n) as EndpointSlice;
        const room = max - (s.endpoints ?? []).length;
        if (room >= desired.size && (!best || (s.endpoints ?? []).length > (best.endpoints ?? []).length)) best = s;
      }
      if (best) {
        fill = structuredClone(best);
        byName.set(fill.metadata.name ?? "", fill);
      }
    }
    fill ??= newSlice(svc, ports, addressType, controllerName);
    while (desired.size > 0 && fill.endpoints.length < max) fill.endpoints.push(desired.pop() as Endpoint);
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else create.push(fill);
  }
  return {
    create,
    update: [...toUpdate].map((n) => byName.get(n) as EndpointSlice),
    delete: [...toDelete].map((n) => byName.get(n) as EndpointSlice),
  };
}
