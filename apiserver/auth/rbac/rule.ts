// Does a PolicyRule allow a request (upstream pkg/apis/rbac/v1/evaluation_helpers.go and
// plugin/pkg/auth/authorizer/rbac RuleAllows): verbs, API groups, resources ("pods/log",
// "*/scale", "*"), resource names, and non-resource URLs with a trailing "*" prefix match.

import type { PolicyRule } from "#pkg/api/types/rbac.js";
import type { Attributes } from "../authorizer/authorizer.js";

const ALL = "*";

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  return rule.verbs.some((v) => v === ALL || v === verb);
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  return (rule.apiGroups ?? []).some((g) => g === ALL || g === group);
}

/** combined is "resource" or "resource/subresource"; "*\/sub" matches any resource's sub. */
export function resourceMatches(rule: PolicyRule, combined: string, subresource: string): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    if (subresource && r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) {
      return true;
    }
  }
  return false;
}

export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(name);
}

export function nonResourceURLMatches(rule: PolicyRule, url: string): boolean {
  for (const u of rule.nonResourceURLs ?? []) {
    if (u === ALL || u === url) return true;
    if (u.endsWith("*") && url.startsWith(u.replace(/\*+$/, ""))) return true;
  }
  return false;
}

/** upstream RuleAllows. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, a.verb)) return false;
  if (a.resourceRequest) {
    const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return (
      apiGroupMatches(rule, a.apiGroup) &&
      resourceMatches(rule, combined, a.subresource) &&
      resourceNameMatches(rule, a.name)
    );
  }
  return nonResourceURLMatches(rule, a.path);
}

export function rulesAllow(a: Attributes, rules: readonly PolicyRule[]): boolean {
  return rules.some((r) => ruleAllows(a, r));
}
