// What a Service's type implies (upstream pkg/api/service/util.go and the needs* helpers of
// pkg/registry/core/service): shared by the strategy and the allocating storage.

import type { Service, ServiceSpec } from "#pkg/api/types/core.js";

/** NodePort and LoadBalancer services hold node ports. */
export function usesNodePorts(type: string | undefined): boolean {
  return type === "NodePort" || type === "LoadBalancer";
}

/** Every type but ExternalName has a clusterIP ("None" counts). */
export function needsClusterIP(spec: ServiceSpec): boolean {
  return spec.type !== "ExternalName";
}

/** upstream shouldAllocateNodePorts: NodePort always, LoadBalancer unless allocateLoadBalancerNodePorts is false. */
export function shouldAllocateNodePorts(spec: ServiceSpec): boolean {
  if (spec.type === "NodePort") return true;
  if (spec.type === "LoadBalancer") return spec.allocateLoadBalancerNodePorts !== false;
  return false;
}

/** upstream NeedsHealthCheck: a LoadBalancer whose externalTrafficPolicy is Local. */
export function needsHealthCheckNodePort(spec: ServiceSpec): boolean {
  return spec.type === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
}

/** upstream ExternallyAccessible: NodePort, LoadBalancer, or a ClusterIP service with externalIPs. */
export function externallyAccessible(spec: ServiceSpec): boolean {
  return (
    spec.type === "LoadBalancer" ||
    spec.type === "NodePort" ||
    (spec.type === "ClusterIP" && (spec.externalIPs ?? []).length > 0)
  );
}

/** The node ports a service holds: its ports' and its health-check node port. */
export function serviceNodePorts(svc: Service | undefined): number[] {
  const spec = svc?.spec;
  if (!spec) return [];
  const ports = (spec.ports ?? []).map((p) => p.nodePort ?? 0);
  if (spec.healthCheckNodePort) ports.push(spec.healthCheckNodePort);
  return [...new Set(ports.filter((p) => p > 0))];
}
