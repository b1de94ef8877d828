// The RBAC authorizer (upstream plugin/pkg/auth/authorizer/rbac/rbac.go): allowed as soon as a
// rule bound to the user allows the request; otherwise no opinion, with the role-resolution
// errors as the reason ("RBAC: clusterrole.rbac.authorization.k8s.io \"x\" not found").

import type {
  Attributes,
  AuthorizationResult,
  Authorizer,
  NonResourceRuleInfo,
  ResourceRuleInfo,
  RuleResolver as RulesLister,
  RulesResult,
} from "../authorizer/authorizer.js";
import type { UserInfo } from "../user.js";
import { aggregate, type RuleResolver } from "./resolver.js";
import { ruleAllows } from "./rule.js";

export class RbacAuthorizer implements Authorizer, RulesLister {
  constructor(readonly resolver: RuleResolver) {}

  authorize(a: Attributes): AuthorizationResult {
    let allowedBy: string | undefined;
    const errors: string[] = [];
    this.resolver.visitRulesFor(a.user, a.namespace, (source, rule, err) => {
      if (rule && ruleAllows(a, rule)) {
        allowedBy = source?.() ?? "";
        return false;
      }
      if (err) errors.push(err);
      return true;
    });
    if (allowedBy !== undefined) return { decision: "Allow", reason: `RBAC: allowed by ${allowedBy}` };
    return { decision: "NoOpinion", reason: errors.length > 0 ? `RBAC: ${aggregate(errors)}` : "" };
  }

  rulesFor(user: UserInfo, namespace: string): RulesResult {
    const { rules, error } = this.resolver.rulesFor(user, namespace);
    const resourceRules: ResourceRuleInfo[] = [];
    const nonResourceRules: NonResourceRuleInfo[] = [];
    for (const r of rules) {
      if ((r.resources ?? []).length > 0) {
        resourceRules.push({
          verbs: r.verbs,
          apiGroups: r.apiGroups ?? [],
          resources: r.resources ?? [],
          resourceNames: r.resourceNames ?? [],
        });
      }
      if ((r.nonResourceURLs ?? []).length > 0) {
        nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] });
      }
    }
    return { resourceRules, nonResourceRules, incomplete: false, ...(error ? { error } : {}) };
  }
}
