// The escalation-preventing REST storage of the RBAC kinds (upstream
// pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased): a write is
// refused with 403 unless the writer holds every permission the role grants (or, for a
// binding, the referenced role grants), is allowed `escalate` on the role (`bind` on the
// referenced role), or is in system:masters. Writes without a user (the API server's own
// bootstrap) are not checked. Updates that only touch ownerReferences/finalizers pass, so the
// garbage collector can always finish a deletion.

import type { KubeObject } from "#pkg/api/meta.js";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef } from "#pkg/api/types/rbac.js";
import { RBAC_GROUP, RULE_ALL } from "#pkg/api/types/rbac.js";
import type { Authorizer } from "../../auth/authorizer/authorizer.js";
import { newForbidden } from "../../auth/authorizer/forbidden.js";
import {
  bindingAuthorized,
  escalationAllowed,
  escalationError,
  roleEscalationAuthorized,
} from "../../auth/rbac/escalation.js";
import type { RuleResolver } from "../../auth/rbac/resolver.js";
import type { UserInfo } from "../../auth/user.js";
import { deepEqual } from "../common.js";
import type { RequestContext, StoreHooks, WriteTransaction } from "../store.js";

export interface PolicyDeps {
  /** Rules of the writer (the same resolver the RBAC authorizer uses). */
  resolver: RuleResolver;
  /** The server's authorizer chain, for `escalate` and `bind`; undefined until the server sets it. */
  authorizer(): Authorizer | undefined;
  /** A referenced role's rules read from storage (its NotFound is the answer for a missing role). */
  roleRules(ref: RoleRef, namespace: string): Promise<readonly PolicyRule[]>;
}

/** Holding this is what the aggregationRule needs (upstream fullAuthority). */
const FULL_AUTHORITY: PolicyRule[] = [
  { verbs: [RULE_ALL], apiGroups: [RULE_ALL], resources: [RULE_ALL] },
  { verbs: [RULE_ALL], nonResourceURLs: [RULE_ALL] },
];

/** upstream IsOnlyMutatingGCFields: the update changes nothing but ownerReferences and finalizers. */
export function onlyMutatesGCFields(next: KubeObject, old: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { ownerReferences: _o, finalizers: _f, resourceVersion: _r, managedFields: _m, ...meta } = o.metadata;
    return { ...o, metadata: meta };
  };
  return deepEqual(strip(next), strip(old));
}

const noop = async () => {};

function transaction(steps: Pick<WriteTransaction, "beforeCreate" | "beforeUpdate">): WriteTransaction {
  return { ...steps, commit: noop, revert: noop };
}

function hasAggregationRule(role: ClusterRole | undefined): boolean {
  return (role?.aggregationRule?.clusterRoleSelectors ?? []).length > 0;
}

/** Roles and ClusterRoles. */
export function roleStorageHooks(resource: "roles" | "clusterroles", deps: PolicyDeps): StoreHooks {
  const check = (user: UserInfo, namespace: string, role: Role | ClusterRole, old: ClusterRole | undefined) => {
    const name = role.metadata.name ?? "";
    const err = escalationError(deps.resolver, user, namespace, role.rules ?? []);
    if (err) throw newForbidden(RBAC_GROUP, resource, name, err);
    // An aggregationRule gathers anything, so it takes * on *.* to set or change one.
    if (resource === "clusterroles" && (hasAggregationRule(role as ClusterRole) || hasAggregationRule(old))) {
      if (escalationError(deps.resolver, user, namespace, FULL_AUTHORITY)) {
        throw newForbidden(RBAC_GROUP, resource, name, "must have cluster-admin privileges to use the aggregationRule");
      }
    }
  };
  return {
    begin(ctx: RequestContext) {
      const user = ctx.userInfo;
      if (user === undefined || escalationAllowed(user)) return transaction({});
      return transaction({
        async beforeCreate(namespace, obj) {
          // As upstream, `escalate` is asked of the collection (a create names no object).
          if (roleEscalationAuthorized(deps.authorizer(), user, resource, namespace ?? "", "")) return;
          check(user, namespace ?? "", obj as Role, undefined);
        },
        async beforeUpdate(namespace, next, old) {
          if (roleEscalationAuthorized(deps.authorizer(), user, resource, namespace ?? "", next.metadata.name ?? "")) {
            return;
          }
          if (onlyMutatesGCFields(next, old)) return;
          check(user, namespace ?? "", next as Role, old as ClusterRole);
        },
      });
    },
  };
}

/** RoleBindings and ClusterRoleBindings. */
export function bindingStorageHooks(resource: "rolebindings" | "clusterrolebindings", deps: PolicyDeps): StoreHooks {
  const check = async (user: UserInfo, namespace: string, b: RoleBinding | ClusterRoleBinding) => {
    if (bindingAuthorized(deps.authorizer(), user, b.roleRef, namespace)) return;
    const rules = await deps.roleRules(b.roleRef, namespace);
    const err = escalationError(deps.resolver, user, namespace, rules);
    if (err) throw newForbidden(RBAC_GROUP, resource, b.metadata.name ?? "", err);
  };
  return {
    begin(ctx: RequestContext) {
      const user = ctx.userInfo;
      if (user === undefined || escalationAllowed(user)) return transaction({});
      return transaction({
        beforeCreate: (namespace, obj) => check(user, namespace ?? "", obj as RoleBinding),
        async beforeUpdate(namespace, next, old) {
          if (onlyMutatesGCFields(next, old)) return;
          await check(user, namespace ?? "", next as RoleBinding);
        },
      });
    },
  };
}
