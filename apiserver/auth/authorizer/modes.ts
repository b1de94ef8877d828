// --authorization-mode (upstream pkg/kubeapiserver/authorizer/config.go): the chain is
// system:masters first (always allowed, as upstream's privileged-groups authorizer), then
// the modes in the order given. RulesFor (SelfSubjectRulesReview) asks every mode but the
// privileged-groups one.

import { SYSTEM_PRIVILEGED_GROUP } from "../user.js";
import type { Authorizer, RuleResolver } from "./authorizer.js";
import { alwaysAllow, alwaysDeny, privilegedGroups, unionAuthorizer, unionRuleResolver } from "./union.js";

export const AUTHORIZATION_MODES = ["AlwaysAllow", "AlwaysDeny", "Node", "RBAC"] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** upstream BuiltInAuthorizationOptions.Validate: known modes, each once, at least one. */
export function validateModes(modes: readonly string[]): string[] {
  const errs: string[] = [];
  if (modes.length === 0) errs.push("at least one authorization-mode must be passed");
  for (const m of modes) {
    if (!(AUTHORIZATION_MODES as readonly string[]).includes(m))
      errs.push(`authorization-mode ${JSON.stringify(m)} is not a valid mode`);
  }
  if (new Set(modes).size !== modes.length) {
    errs.push(`authorization-mode ${JSON.stringify(modes.join(","))} has mode specified more than once`);
  }
  return errs;
}

export interface ModeAuthorizers {
  rbac: () => Authorizer & RuleResolver;
  node: () => Authorizer & RuleResolver;
}

export interface AuthorizerChain {
  authorizer: Authorizer;
  ruleResolver: RuleResolver;
}

export function buildAuthorizerChain(modes: readonly AuthorizationMode[], make: ModeAuthorizers): AuthorizerChain {
  const authorizers: Authorizer[] = [privilegedGroups(SYSTEM_PRIVILEGED_GROUP)];
  const resolvers: RuleResolver[] = [];
  for (const m of modes) {
    const a =
      m === "AlwaysAllow" ? alwaysAllow : m === "AlwaysDeny" ? alwaysDeny : m === "RBAC" ? make.rbac() : make.node();
    authorizers.push(a);
    resolvers.push(a);
  }
  return { authorizer: unionAuthorizer(authorizers), ruleResolver: unionRuleResolver(resolvers) };
}
