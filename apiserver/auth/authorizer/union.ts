// The authorizer chain (upstream k8s.io/apiserver/pkg/authorization/union and authorizerfactory):
// the first Allow or Deny wins, NoOpinion asks the next; the built-in AlwaysAllow, AlwaysDeny
// and privileged-groups (system:masters) authorizers.

import type { UserInfo } from "../user.js";
import {
  type Attributes,
  type AuthorizationResult,
  type Authorizer,
  allow,
  noOpinion,
  type RuleResolver,
  type RulesResult,
} from "./authorizer.js";

export function unionAuthorizer(authorizers: readonly Authorizer[]): Authorizer {
  return {
    authorize(a: Attributes): AuthorizationResult {
      const reasons: string[] = [];
      const errors: string[] = [];
      for (const z of authorizers) {
        const r = z.authorize(a);
        if (r.error) errors.push(r.error);
        if (r.reason) reasons.push(r.reason);
        if (r.decision === "Allow" || r.decision === "Deny") {
          return { decision: r.decision, reason: r.reason, ...(r.error ? { error: r.error } : {}) };
        }
      }
      const out: AuthorizationResult = { decision: "NoOpinion", reason: reasons.join("\n") };
      if (errors.length > 0) out.error = errors.length === 1 ? (errors[0] as string) : `[${errors.join(", ")}]`;
      return out;
    },
  };
}

/** upstream union.NewRuleResolvers: every resolver's rules, incomplete if any is. */
export function unionRuleResolver(resolvers: readonly RuleResolver[]): RuleResolver {
  return {
    rulesFor(user: UserInfo, namespace: string): RulesResult {
      const out: RulesResult = { resourceRules: [], nonResourceRules: [], incomplete: false };
      const errors: string[] = [];
      for (const r of resolvers) {
        const got = r.rulesFor(user, namespace);
        out.resourceRules.push(...got.resourceRules);
        out.nonResourceRules.push(...got.nonResourceRules);
        if (got.incomplete) out.incomplete = true;
        if (got.error) errors.push(got.error);
      }
      if (errors.length > 0) out.error = errors.length === 1 ? (errors[0] as string) : `[${errors.join(", ")}]`;
      return out;
    },
  };
}

export const alwaysAllow: Authorizer & RuleResolver = {
  authorize: () => allow(),
  rulesFor: () => ({
    resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"], resourceNames: [] }],
    nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
    incomplete: false,
  }),
};

export const alwaysDeny: Authorizer & RuleResolver = {
  authorize: () => ({ decision: "NoOpinion", reason: "Everything is forbidden." }),
  rulesFor: () => ({ resourceRules: [], nonResourceRules: [], incomplete: false }),
};

/** upstream NewPrivilegedGroups: members of these groups may do anything (system:masters). */
export function privilegedGroups(...groups: string[]): Authorizer {
  return {
    authorize: (a) => (a.user.groups.some((g) => groups.includes(g)) ? allow() : noOpinion()),
  };
}
