// What kube-proxy programs, as upstream's pkg/proxy ServicePort and Endpoint: one entry per
// service port (namespace/name:port + protocol), with the endpoints the slices give it. Every
// sync builds the whole state afresh from the informers' stores (level-triggered; upstream's
// change trackers only exist to make that cheaper), and both proxiers read only this.

import type { Service } from "#pkg/api/types/index.js";
import type { EndpointSliceView } from "./slices.js";

export type Protocol = "TCP" | "UDP" | "SCTP";

/** Upstream's default sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** ServicePortInfo: one port of a Service, as the proxiers program it. */
export interface ServicePortInfo {
  /** Upstream's ServicePortName.String(): "ns/name:port", or "ns/name" for an unnamed port. */
  readonly name: string;
  readonly namespace: string;
  readonly service: string;
  readonly portName: string;
  readonly protocol: Protocol;
  readonly clusterIP: string;
  readonly port: number;
  /** 0 when the port has none. */
  readonly nodePort: number;
  readonly type: string;
  /** status.loadBalancer.ingress[].ip */
  readonly loadBalancerIPs: readonly string[];
  /**
   * The service port is also opened on the host itself (127.0.0.1 and the node's addresses): a
   * LoadBalancer service of ours (ProxyState.hostLoadBalancers decides which, oldest first).
   */
  readonly hostLoadBalancer: boolean;
  readonly loadBalancerSourceRanges: readonly string[];
  readonly externalIPs: readonly string[];
  /** sessionAffinity ClientIP: its timeout; undefined for None. */
  readonly affinityTimeoutSeconds?: number;
  readonly externalPolicyLocal: boolean;
  readonly internalPolicyLocal: boolean;
}

/** EndpointInfo: one address:port behind a service port (upstream's BaseEndpointInfo). */
export interface EndpointInfo {
  readonly ip: string;
  readonly port: number;
  /** conditions.ready (unset = true). */
  readonly ready: boolean;
  /** conditions.serving (unset = ready). */
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly nodeName?: string;
}

export interface ServiceEntry {
  readonly svc: ServicePortInfo;
  /** Every endpoint the slices list for the port, deduplicated, sorted by ip:port. */
  readonly endpoints: readonly EndpointInfo[];
}

/** ProxyState: the whole desired state of one sync, service ports sorted by name then protocol. */
export interface ProxyState {
  readonly services: readonly ServiceEntry[];
  /** Where host LoadBalancer services open their ports: 127.0.0.1 and the node's address. */
  readonly hostAddresses?: readonly string[];
}

export function endpointString(ep: Pick<EndpointInfo, "ip" | "port">): string {
  return `${ep.ip}:${ep.port}`;
}

/** servicePortName: upstream's ServicePortName.String(). */
export function servicePortName(namespace: string, service: string, port: string): string {
  return `${namespace}/${service}${port ? `:${port}` : ""}`;
}

/**
 * usableEndpoints: upstream's CategorizeEndpoints for one traffic policy: the ready endpoints
 * (serving and not terminating); when there is none, the serving terminating ones, so that
 * connections still find a pod that is shutting down gracefully (ProxyTerminatingEndpoints).
 * local keeps only this node's endpoints.
 */
export function usableEndpoints(
  endpoints: readonly EndpointInfo[],
  o: { local?: boolean; nodeName?: string } = {},
): EndpointInfo[] {
  const pool = o.local ? endpoints.filter((e) => e.nodeName !== undefined && e.nodeName === o.nodeName) : endpoints;
  const ready = pool.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return pool.filter((e) => e.serving && e.terminating);
}

function isIPv4(ip: string | undefined): ip is string {
  return ip !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

function protocolOf(p: string | undefined): Protocol {
  return p === "UDP" || p === "SCTP" ? p : "TCP";
}

/**
 * servicePorts: the ports of a Service that kube-proxy serves, as upstream's
 * newBaseServiceInfo. Headless (clusterIP None), ExternalName and IPv6-only services have none.
 */
export function servicePorts(svc: Service): ServicePortInfo[] {
  const spec = svc.spec ?? {};
  const clusterIP = spec.clusterIP;
  if (spec.type === "ExternalName" || !isIPv4(clusterIP)) return [];
  const namespace = svc.metadata.namespace ?? "default";
  const service = svc.metadata.name ?? "";
  const affinity =
    spec.sessionAffinity === "ClientIP"
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
      : undefined;
  const type = spec.type ?? "ClusterIP";
  const lbIPs = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(isIPv4);
  const externalTraffic = type === "NodePort" || type === "LoadBalancer";
  return (spec.ports ?? []).map((p) => ({
    name: servicePortName(namespace, service, p.name ?? ""),
    namespace,
    service,
    portName: p.name ?? "",
    protocol: protocolOf(p.protocol),
    clusterIP,
    port: p.port,
    nodePort: externalTraffic ? (p.nodePort ?? 0) : 0,
    type,
    loadBalancerIPs: type === "LoadBalancer" ? lbIPs : [],
    hostLoadBalancer: false,
    loadBalancerSourceRanges: type === "LoadBalancer" ? (spec.loadBalancerSourceRanges ?? []).map((s) => s.trim()) : [],
    externalIPs: (spec.externalIPs ?? []).filter(isIPv4),
    ...(affinity !== undefined ? { affinityTimeoutSeconds: affinity } : {}),
    externalPolicyLocal: externalTraffic && spec.externalTrafficPolicy === "Local",
    internalPolicyLocal: spec.internalTrafficPolicy === "Local",
  }));
}

/**
 * endpointsFor: the endpoints of one service port from the service's slices (upstream's
 * EndpointSliceCache): slice ports matched by name and protocol, IPv4 slices only, each address
 * once (a pod may sit in two slices while the controller moves it).
 */
export function endpointsFor(port: ServicePortInfo, slices: readonly EndpointSliceView[]): EndpointInfo[] {
  const seen = new Map<string, EndpointInfo>();
  for (const slice of slices) {
    if (slice.addressType !== "IPv4") continue;
    for (const sp of slice.ports ?? []) {
      if ((sp.name ?? "") !== port.portName || protocolOf(sp.protocol) !== port.protocol) continue;
      if (sp.port === undefined || sp.port <= 0) continue;
      for (const ep of slice.endpoints ?? []) {
        const ip = ep.addresses?.[0];
        if (!isIPv4(ip)) continue;
        const ready = ep.conditions?.ready ?? true;
        const info: EndpointInfo = {
          ip,
          port: sp.port,
          ready,
          serving: ep.conditions?.serving ?? ready,
          terminating: ep.conditions?.terminating ?? false,
          ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
        };
        const key = endpointString(info);
        const prev = seen.get(key);
        // A ready copy wins over a stale not-ready one.
        if (!prev || (!prev.ready && info.ready)) seen.set(key, info);
      }
    }
  }
  return [...seen.values()].sort((a, b) => compareEndpoints(a, b));
}

function ipKey(ip: string): number {
  return ip.split(".").reduce((acc, p) => acc * 256 + Number(p), 0);
}

function compareEndpoints(a: EndpointInfo, b: EndpointInfo): number {
  return ipKey(a.ip) - ipKey(b.ip) || a.port - b.port;
}

/** The age order of services: oldest first, then by name (upstream's tie-break for conflicts). */
function olderFirst(a: Service, b: Service): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? "") || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? "") || 0;
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * isHostLoadBalancer: a LoadBalancer service kubeling-proxy implements itself (no
 * spec.loadBalancerClass: a class names another implementation, which upstream's service
 * controllers leave alone too).
 */
export function isHostLoadBalancer(svc: Service): boolean {
  return svc.spec?.type === "LoadBalancer" && !svc.spec.loadBalancerClass && servicePorts(svc).length > 0;
}

export interface BuildStateOptions {
  services: readonly Service[];
  /** The slices of a service, by "namespace/name". */
  slicesOf: (namespace: string, name: string) => readonly EndpointSliceView[];
  /** ClusterIPs outside these CIDRs are not programmed (traffic to them would leave the machine). */
  serviceCIDRs?: readonly string[];
  /** ProxyState.hostAddresses. */
  hostAddresses?: readonly string[];
  /** Reports a service port skipped and why (logged once per sync by the caller). */
  skipped?: (name: string, reason: string) => void;
}

export interface BuiltState extends ProxyState {
  /** LoadBalancer services whose port the host serves: "ns/name" → true; losers of a port conflict absent. */
  readonly hostLoadBalancers: ReadonlyMap<string, boolean>;
}

/**
 * buildState: the ProxyState for the current Services and slices. A LoadBalancer service of ours
 * gets the host's copy of its ports unless an older one already holds the same port and protocol
 * (the host has one address per port; the younger service waits, without ingress).
 */
export function buildState(o: BuildStateOptions): BuiltState {
  const services = [...o.services].sort(olderFirst);
  const taken = new Set<string>();
  const hostLB = new Map<string, boolean>();
  const entries: ServiceEntry[] = [];
  for (const svc of services) {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    let ports = servicePorts(svc);
    if (ports.length === 0) continue;
    if (o.serviceCIDRs && o.serviceCIDRs.length > 0) {
      const ip = ports[0]?.clusterIP ?? "";
      if (!o.serviceCIDRs.some((c) => cidrContains(c, ip))) {
        o.skipped?.(key, `clusterIP ${ip} is outside the service range ${o.serviceCIDRs.join(",")}`);
        continue;
      }
    }
    if (isHostLoadBalancer(svc)) {
      const wanted = ports.map((p) => `${p.protocol}/${p.port}`);
      const free = wanted.every((w) => !taken.has(w));
      if (free) {
        for (const w of wanted) taken.add(w);
        hostLB.set(key, true);
        ports = ports.map((p) => ({ ...p, hostLoadBalancer: true }));
      } else {
        o.skipped?.(key, "its port is already opened on the host by an older LoadBalancer service");
      }
    }
    const slices = o.slicesOf(svc.metadata.namespace ?? "default", svc.metadata.name ?? "");
    for (const p of ports) entries.push({ svc: p, endpoints: endpointsFor(p, slices) });
  }
  entries.sort((a, b) =>
    a.svc.name < b.svc.name ? -1 : a.svc.name > b.svc.name ? 1 : a.svc.protocol < b.svc.protocol ? -1 : 1,
  );
  return {
    services: entries,
    hostLoadBalancers: hostLB,
    ...(o.hostAddresses ? { hostAddresses: o.hostAddresses } : {}),
  };
}

/** cidrContains: whether the IPv4 CIDR holds ip. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [base = "", bitsText = "32"] = cidr.split("/");
  const bits = Number(bitsText);
  if (!isIPv4(base) || !isIPv4(ip) || !(bits >= 0 && bits <= 32)) return false;
  const size = 2 ** (32 - bits);
  const start = ipKey(base) - (ipKey(base) % size);
  const n = ipKey(ip);
  return n >= start && n < start + size;
}
