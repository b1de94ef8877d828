// What the Endpoints and EndpointSlice controllers share (upstream
// staging/src/k8s.io/endpointslice/util/controller_utils.go, pkg/api/v1/pod's FindPort and
// pkg/controller/util/endpoint): which pods a Service selects, whether a pod belongs in its
// endpoints, its address for the Service's IP family, its port for a service port (named
// target ports resolved per pod), and which Services a pod change concerns.

import { isIP } from "node:net";
import { keyOf } from "#pkg/api/keys.js";
import { selectorFromSet } from "#pkg/api/labels.js";
import type { Pod, Service, ServicePort } from "#pkg/api/types/core.js";
import { type InformerView, objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { isPodReady } from "#pkg/controller/pod-util.js";

/** upstream IsPodTerminal: Succeeded or Failed. */
export function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/**
 * upstream ShouldPodBeInEndpoints: not finished, has an IP, and (unless includeTerminating, a
 * service's publishNotReadyAddresses or the slices' terminating endpoints) not being deleted.
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's IPs, podIPs first (podIP alone from a kubelet that sets only it). */
function podIPs(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length === 0 && pod.status?.podIP) ips.push(pod.status.podIP);
  return ips;
}

/** The service's first IP family (upstream: ipFamilies[0], else guessed from the clusterIP or pod IP). */
export function serviceIPFamily(svc: Service, pod?: Pod): "IPv4" | "IPv6" {
  const first = svc.spec?.ipFamilies?.[0];
  if (first === "IPv4" || first === "IPv6") return first;
  const ip = svc.spec?.clusterIP;
  if (ip && ip !== "None") return isIP(ip) === 6 ? "IPv6" : "IPv4";
  return pod && isIP(pod.status?.podIP ?? "") === 6 ? "IPv6" : "IPv4";
}

/** The pod's IP of the given family, or undefined (upstream podToEndpointAddressForService). */
export function podIPForFamily(pod: Pod, family: "IPv4" | "IPv6"): string | undefined {
  return podIPs(pod).find((ip) => (isIP(ip) === 6) === (family === "IPv6"));
}

/**
 * upstream FindPort: the container port a service port reaches on this pod. A numeric
 * targetPort is itself; a named one is looked up in the pod's containers (and restartable init
 * containers) by name and protocol. undefined when the pod has no such port.
 */
export function findPort(pod: Pod, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? "TCP";
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
  for (const c of [...(pod.spec?.containers ?? []), ...sidecars])
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? "TCP") === protocol) return p.containerPort;
  return undefined;
}

/** Whether a Service selects pods (a Service without a selector keeps the Endpoints its user wrote). */
export function hasSelector(svc: Service): boolean {
  return svc.spec?.selector !== undefined && svc.spec.selector !== null;
}

/** The pods of the Service's namespace its selector matches. */
export function podsForService(pods: InformerView<Pod>, svc: Service): Pod[] {
  const sel = selectorFromSet(svc.spec?.selector);
  return pods
    .byIndex(NAMESPACE_INDEX, svc.metadata.namespace ?? "")
    .filter((p) => sel.matches(p.metadata.labels ?? {}));
}

/** upstream GetPodServiceMemberships: keys of the Services (with selectors) selecting the pod. */
export function podServiceMemberships(services: InformerView<Service>, pod: Pod): Set<string> {
  const out = new Set<string>();
  for (const svc of services.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? "")) {
    if (!hasSelector(svc)) continue;
    if (selectorFromSet(svc.spec?.selector).matches(pod.metadata.labels ?? {})) out.add(keyOf(svc));
  }
  return out;
}

const sameJSON = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * upstream podEndpointsChanged: [whether the pod changed in a way its endpoints show (deletion,
 * readiness, IPs, phase), whether it may now match other Services (labels, hostname, subdomain)].
 */
export function podEndpointsChanged(old: Pod, cur: Pod): [podChanged: boolean, labelsChanged: boolean] {
  const labelsChanged =
    !sameJSON(old.metadata.labels, cur.metadata.labels) ||
    old.spec?.hostname !== cur.spec?.hostname ||
    old.spec?.subdomain !== cur.spec?.subdomain;
  const podChanged =
    old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp ||
    isPodReady(old) !== isPodReady(cur) ||
    isPodTerminal(old) !== isPodTerminal(cur) ||
    !sameJSON(podIPs(old), podIPs(cur)) ||
    old.spec?.nodeName !== cur.spec?.nodeName;
  return [podChanged, labelsChanged];
}

/** upstream GetServicesToUpdateOnPodChange: the Service keys a pod update concerns. */
export function servicesToUpdateOnPodChange(services: InformerView<Service>, old: Pod, cur: Pod): Set<string> {
  if (old.metadata.resourceVersion !== undefined && old.metadata.resourceVersion === cur.metadata.resourceVersion)
    return new Set();
  const [podChanged, labelsChanged] = podEndpointsChanged(old, cur);
  if (!podChanged && !labelsChanged) return new Set();
  const now = podServiceMemberships(services, cur);
  if (!labelsChanged) return now;
  const before = podServiceMemberships(services, old);
  // A changed pod concerns every Service it was or is in; otherwise only those it left or joined.
  if (podChanged) return new Set([...before, ...now]);
  const out = new Set<string>();
  for (const k of before) if (!now.has(k)) out.add(k);
  for (const k of now) if (!before.has(k)) out.add(k);
  return out;
}

/**
 * watchServicePods: the handlers both endpoint controllers put on the Service and Pod informers
 * (upstream's addService/updateService/deleteService and addPod/updatePod/deletePod): a Service
 * event enqueues that Service, a pod event the Services it concerns.
 */
export function watchServicePods(
  services: InformerView<Service>,
  pods: InformerView<Pod>,
  enqueue: (key: string) => void,
  enqueueAll: (keys: Set<string>) => void,
): void {
  services.on("add", (svc) => enqueue(keyOf(svc)));
  services.on("update", (_old, svc) => enqueue(keyOf(svc)));
  services.on("delete", (svc) => enqueue(keyOf(objectOf(svc))));
  pods.on("add", (pod) => enqueueAll(podServiceMemberships(services, pod)));
  pods.on("update", (old, cur) => enqueueAll(servicesToUpdateOnPodChange(services, old, cur)));
  pods.on("delete", (pod) => enqueueAll(podServiceMemberships(services, objectOf(pod))));
}

/** The pod's hostname for this Service's DNS records (set when its subdomain is the Service). */
export function podHostnameForService(pod: Pod, svc: Service): string | undefined {
  const hostname = pod.spec?.hostname;
  if (hostname && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace)
    return hostname;
  return undefined;
}

export { isPodReady };
