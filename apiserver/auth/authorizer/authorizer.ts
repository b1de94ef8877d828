// The authorization interfaces (upstream k8s.io/apiserver/pkg/authorization/authorizer): what a
// request asks for (Attributes), what an authorizer answers (allow, deny or no opinion, with a
// reason), and what a rule resolver lists (SelfSubjectRulesReview). Authorizers are synchronous:
// they read informer-like caches, never storage.

import type { UserInfo } from "#pkg/server/authentication.js";
import type { Attributes, AuthorizationResult } from "#pkg/server/authorization.js";

// What a request asks for and what an authorizer answers are the same for every kubeling server.
export type { Attributes, AuthorizationResult, Decision } from "#pkg/server/authorization.js";

export interface Authorizer {
  authorize(a: Attributes): AuthorizationResult;
}

/** upstream authorizer.ResourceRuleInfo / NonResourceRuleInfo. */
export interface ResourceRuleInfo {
  verbs: string[];
  apiGroups: string[];
  resources: string[];
  resourceNames: string[];
}
export interface NonResourceRuleInfo {
  verbs: string[];
  nonResourceURLs: string[];
}

export interface RulesResult {
  resourceRules: ResourceRuleInfo[];
  nonResourceRules: NonResourceRuleInfo[];
  /** The lists are not everything the user may do (an authorizer cannot enumerate). */
  incomplete: boolean;
  error?: string;
}

export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RulesResult;
}

export const allow = (reason = ""): AuthorizationResult => ({ decision: "Allow", reason });
export const noOpinion = (reason = ""): AuthorizationResult => ({ decision: "NoOpinion", reason });

/** Attributes of a resource request, for checks the server makes itself (bind, escalate, impersonate). */
export function resourceAttributes(
  user: UserInfo,
  a: Partial<Omit<Attributes, "user" | "resourceRequest">> & { verb: string; resource: string },
): Attributes {
  return {
    user,
    resourceRequest: true,
    path: "",
    namespace: "",
    apiGroup: "",
    apiVersion: "*",
    subresource: "",
    name: "",
    ...a,
  };
}
