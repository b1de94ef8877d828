// ClusterState over the informers' caches (Services and Endpoints), with the indexes DNS needs:
// services by namespace (every store's) and by ClusterIP, headless services' addresses by IP (for PTR).

import type { EndpointAddress, Endpoints, Service } from "#pkg/api/types/index.js";
import type { InformerView } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import type { ClusterState } from "./records.js";

const BY_CLUSTER_IP = "clusterIP";
const BY_ADDRESS = "address";

export function informerState(services: InformerView<Service>, endpoints: InformerView<Endpoints>): ClusterState {
  services.addIndex(BY_CLUSTER_IP, (s) =>
    (s.spec?.clusterIPs ?? (s.spec?.clusterIP ? [s.spec.clusterIP] : [])).filter((ip) => ip && ip !== "None"),
  );
  // Only addresses with a hostname get a PTR (the specification's rule for headless services).
  endpoints.addIndex(BY_ADDRESS, (ep) =>
    (ep.subsets ?? []).flatMap((s) => (s.addresses ?? []).filter((a) => a.hostname).map((a) => a.ip)),
  );
  const key = (ns: string, name: string) => `${ns}/${name}`;
  return {
    service: (ns, name) => services.get(key(ns, name)),
    endpoints: (ns, name) => endpoints.get(key(ns, name)),
    hasNamespace: (ns) => services.byIndex(NAMESPACE_INDEX, ns).length > 0,
    serviceByClusterIP: (ip) => services.byIndex(BY_CLUSTER_IP, ip)[0],
    headlessByIP: (ip) => {
      for (const ep of endpoints.byIndex(BY_ADDRESS, ip)) {
        const service = services.get(key(ep.metadata.namespace ?? "", ep.metadata.name ?? ""));
        if (service?.spec?.clusterIP !== "None") continue;
        let address: EndpointAddress | undefined;
        for (const s of ep.subsets ?? []) address ??= s.addresses?.find((a) => a.ip === ip && a.hostname);
        if (address) return { service, address };
      }
      return undefined;
    },
  };
}
