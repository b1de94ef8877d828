// The part of a discovery.k8s.io/v1 EndpointSlice that kube-proxy reads (upstream's shape), and
// the slices that a core/v1 Endpoints object amounts to, for clusters whose API server serves no
// slices yet (upstream kube-proxy reads slices only).

import type { Endpoints } from "#pkg/api/types/index.js";

export interface EndpointSliceView {
  addressType: string;
  endpoints?: ReadonlyArray<{
    addresses?: readonly string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
  }>;
  ports?: ReadonlyArray<{ name?: string; protocol?: string; port?: number }>;
}

/**
 * slicesOfEndpoints: an Endpoints object as slices (one per subset, as upstream's mirroring
 * controller makes them): addresses ready, notReadyAddresses not ready (and not serving).
 */
export function slicesOfEndpoints(ep: Endpoints): EndpointSliceView[] {
  return (ep.subsets ?? []).map((s) => ({
    addressType: "IPv4",
    endpoints: [
      ...(s.addresses ?? []).map((a) => ({
        addresses: [a.ip],
        conditions: { ready: true, serving: true, terminating: false },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      })),
      ...(s.notReadyAddresses ?? []).map((a) => ({
        addresses: [a.ip],
        conditions: { ready: false, serving: false, terminating: false },
        ...(a.nodeName ? { nodeName: a.nodeName } : {}),
      })),
    ],
    ports: (s.ports ?? []).map((p) => ({
      ...(p.name ? { name: p.name } : {}),
      protocol: p.protocol ?? "TCP",
      port: p.port,
    })),
  }));
}
