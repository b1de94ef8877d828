// Which rules apply to a user (upstream pkg/registry/rbac/validation/rule.go DefaultRuleResolver):
// every ClusterRoleBinding naming the user, one of its groups or its service account, then the
// RoleBindings of the namespace; each binding's role resolved to its rules. A binding whose
// role is missing adds an error (reported with a denial) but never stops the walk: rules only
// add permissions.

import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  RoleRef,
  Subject,
} from "#pkg/api/types/rbac.js";
import { RBAC_GROUP } from "#pkg/api/types/rbac.js";
import { serviceAccountUsername, type UserInfo } from "../user.js";

/** Where the resolver reads RBAC objects (the API server's watch cache; a fixed list in tests). */
export interface RbacSource {
  getRole(namespace: string, name: string): Role | undefined;
  listRoleBindings(namespace: string): readonly RoleBinding[];
  getClusterRole(name: string): ClusterRole | undefined;
  listClusterRoleBindings(): readonly ClusterRoleBinding[];
}

/**
 * A visitor sees each rule that applies (with a lazily built description of where it came
 * from) or an error; returning false stops the walk.
 */
export type RuleVisitor = (
  source: (() => string) | undefined,
  rule: PolicyRule | undefined,
  err: string | undefined,
) => boolean;

function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === "ServiceAccount") {
    return `${s.kind} ${JSON.stringify(`${s.name}/${s.namespace || bindingNamespace}`)}`;
  }
  return `${s.kind} ${JSON.stringify(s.name)}`;
}

/** upstream appliesToUser. */
export function appliesToUser(user: UserInfo, s: Subject, namespace: string): boolean {
  switch (s.kind) {
    case "User":
      return user.name === s.name;
    case "Group":
      return user.groups.includes(s.name);
    case "ServiceAccount": {
      const ns = s.namespace || namespace;
      return ns !== "" && user.name === serviceAccountUsername(ns, s.name);
    }
    default:
      return false;
  }
}

function firstApplying(
  user: UserInfo,
  subjects: readonly Subject[] | undefined,
  namespace: string,
): Subject | undefined {
  // A plain loop: this runs for every binding on every request (no closure per call).
  if (!subjects) return undefined;
  for (const s of subjects) if (appliesToUser(user, s, namespace)) return s;
  return undefined;
}

/** Messages as the listers' NotFound errors: `clusterrole.rbac.authorization.k8s.io "x" not found`. */
function notFoundMessage(kind: "role" | "clusterrole", name: string): string {
  return `${kind}.${RBAC_GROUP} ${JSON.stringify(name)} not found`;
}

export class RuleResolver {
  constructor(private readonly source: RbacSource) {}

  /** upstream GetRoleReferenceRules: a role reference's rules, or the error of resolving it. */
  roleReferenceRules(ref: RoleRef, bindingNamespace: string): { rules: readonly PolicyRule[] } | { error: string } {
    switch (ref.kind) {
      case "Role": {
        const role = this.source.getRole(bindingNamespace, ref.name);
        return role ? { rules: role.rules ?? [] } : { error: notFoundMessage("role", ref.name) };
      }
      case "ClusterRole": {
        const role = this.source.getClusterRole(ref.name);
        return role ? { rules: role.rules ?? [] } : { error: notFoundMessage("clusterrole", ref.name) };
      }
      default:
        return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
    }
  }

  /** upstream VisitRulesFor. */
  visitRulesFor(user: UserInfo, namespace: string, visit: RuleVisitor): void {
    for (const b of this.source.listClusterRoleBindings()) {
      const subject = firstApplying(user, b.subjects, "");
      if (!subject) continue;
      const got = this.roleReferenceRules(b.roleRef, "");
      if ("error" in got) {
        if (!visit(undefined, undefined, got.error)) return;
        continue;
      }
      const describe = () =>
        `ClusterRoleBinding ${JSON.stringify(b.metadata.name ?? "")} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, "")}`;
      for (const rule of got.rules) if (!visit(describe, rule, undefined)) return;
    }
    if (!namespace) return;
    for (const b of this.source.listRoleBindings(namespace)) {
      const subject = firstApplying(user, b.subjects, namespace);
      if (!subject) continue;
      const got = this.roleReferenceRules(b.roleRef, namespace);
      if ("error" in got) {
        if (!visit(undefined, undefined, got.error)) return;
        continue;
      }
      const describe = () =>
        `RoleBinding ${JSON.stringify(`${b.metadata.name ?? ""}/${namespace}`)} of ${b.roleRef.kind} ${JSON.stringify(b.roleRef.name)} to ${describeSubject(subject, namespace)}`;
      for (const rule of got.rules) if (!visit(describe, rule, undefined)) return;
    }
  }

  /** upstream RulesFor: every applying rule, and the resolution errors met (aggregated). */
  rulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; error?: string } {
    const rules: PolicyRule[] = [];
    const errors: string[] = [];
    this.visitRulesFor(user, namespace, (_src, rule, err) => {
      if (rule) rules.push(rule);
      if (err) errors.push(err);
      return true;
    });
    return errors.length > 0 ? { rules, error: aggregate(errors) } : { rules };
  }
}

/** upstream utilerrors.NewAggregate(...).Error(): one message, or "[a, b]". */
export function aggregate(errors: readonly string[]): string {
  return errors.length === 1 ? (errors[0] as string) : `[${errors.join(", ")}]`;
}
