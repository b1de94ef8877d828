// What each kind's REST storage adds to the generic store (upstream: the NewStorage functions of
// pkg/registry/<group>/<kind>/storage, wired by pkg/controlplane's storage providers): service
// IP/port allocation, pods/binding, the scale subresource of every scalable kind, the events TTL,
// the namespace write tracking the registry's namespace lookups rely on, and the RBAC kinds'
// escalation checks.

import type { ResourceInfo } from "#pkg/api/resources.js";
import { BindingREST } from "./core/pod/binding.js";
import type { ServiceAllocator } from "./core/service/allocator.js";
import { serviceStorageHooks } from "./core/service/storage.js";
import { bindingStorageHooks, type PolicyDeps, roleStorageHooks } from "./rbac/policybased.js";
import { labelSelectorString, ScaleREST, setSelectorString } from "./scale.js";
import type { StoreDeps } from "./store.js";

export interface RESTStorageDeps {
  allocator: ServiceAllocator;
  /** --event-ttl (0: events never expire). */
  eventTTLSeconds: number;
  /** Told the revision of every namespace write. */
  onNamespaceWrite: (rev: number) => void;
  /** What the RBAC kinds' escalation checks read. */
  rbac: PolicyDeps;
}

type KindStorage = Pick<StoreDeps, "hooks" | "scale" | "binding" | "ttlSeconds" | "onWrite">;

const byKind: Record<string, (d: RESTStorageDeps) => KindStorage> = {
  "/services": (d) => ({ hooks: serviceStorageHooks(d.allocator) }),
  "/pods": () => ({ binding: (store) => new BindingREST(store) }),
  "/events": (d) => ({ ttlSeconds: d.eventTTLSeconds || undefined }),
  "/namespaces": (d) => ({ onWrite: d.onNamespaceWrite }),
  "rbac.authorization.k8s.io/roles": (d) => ({ hooks: roleStorageHooks("roles", d.rbac) }),
  "rbac.authorization.k8s.io/clusterroles": (d) => ({ hooks: roleStorageHooks("clusterroles", d.rbac) }),
  "rbac.authorization.k8s.io/rolebindings": (d) => ({ hooks: bindingStorageHooks("rolebindings", d.rbac) }),
  "rbac.authorization.k8s.io/clusterrolebindings": (d) => ({
    hooks: bindingStorageHooks("clusterrolebindings", d.rbac),
  }),
};

/** The kind-specific parts of r's store. */
export function restStorageFor(r: ResourceInfo, d: RESTStorageDeps): KindStorage {
  const own = byKind[`${r.group}/${r.resource}`]?.(d) ?? {};
  if (r.subresources.some((s) => s.name === "scale")) {
    // The one core kind with a scale subresource selects by an equality map, not a LabelSelector.
    const selectorOf =
      r.group === "" && r.resource === "replicationcontrollers" ? setSelectorString : labelSelectorString;
    own.scale = (store) => new ScaleREST(store, selectorOf);
  }
  return own;
}
