// The part of a discovery.k8s.io/v1 EndpointSlice that kube-proxy reads (upstream's shape); the
// API's EndpointSlice (pkg/api/types/discovery.ts) is one.

export interface EndpointSliceView {
  addressType: string;
  endpoints?: ReadonlyArray<{
    addresses?: readonly string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    nodeName?: string;
  }>;
  ports?: ReadonlyArray<{ name?: string; protocol?: string; port?: number }>;
}
