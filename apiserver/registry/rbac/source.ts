// The RBAC objects as the authorizer reads them: straight from the watch cache (upstream reads
// informer listers), so an authorization decision never waits on etcd. A registry serving no
// RBAC kinds (some tests) has no roles at all.

import { CLUSTERROLEBINDINGS, CLUSTERROLES, type ResourceInfo, ROLEBINDINGS, ROLES } from "#pkg/api/resources.js";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "#pkg/api/types/rbac.js";
import type { RbacSource } from "../../auth/rbac/resolver.js";
import type { ResourceCache, WatchCache } from "../../storage/watch-cache.js";

export function rbacSourceFromCache(cache: WatchCache): RbacSource {
  const of = (r: ResourceInfo): ResourceCache | undefined => {
    try {
      return cache.for(r);
    } catch {
      return undefined;
    }
  };
  const roles = of(ROLES);
  const roleBindings = of(ROLEBINDINGS);
  const clusterRoles = of(CLUSTERROLES);
  const clusterRoleBindings = of(CLUSTERROLEBINDINGS);
  return {
    getRole: (ns, name) => roles?.get(ns, name)?.obj as Role | undefined,
    listRoleBindings: (ns) => (roleBindings?.list(ns) ?? []) as RoleBinding[],
    getClusterRole: (name) => clusterRoles?.get(undefined, name)?.obj as ClusterRole | undefined,
    listClusterRoleBindings: () => (clusterRoleBindings?.list(undefined) ?? []) as ClusterRoleBinding[],
  };
}
