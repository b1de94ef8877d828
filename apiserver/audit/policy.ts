// Audit policy (upstream apiserver/pkg/apis/audit/v1 Policy, audit/policy/checker.go and
// reader.go, apis/audit/validation): the rules that decide at which level a request is
// recorded. The first rule whose users, groups, verbs and resources (or non-resource URLs) all
// match decides; no match is level None. Stages are left out by the policy's omitStages and
// the matching rule's.

import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { RequestInfo } from "../auth/authorizer/request-info.js";
import type { UserInfo } from "../auth/user.js";

export type Level = "None" | "Metadata" | "Request" | "RequestResponse";
export const LEVELS: readonly Level[] = ["None", "Metadata", "Request", "RequestResponse"];

export type Stage = "RequestReceived" | "ResponseStarted" | "ResponseComplete" | "Panic";
export const STAGES: readonly Stage[] = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"];

/** a is recorded at least as fully as b. */
export const levelAtLeast = (a: Level, b: Level): boolean => LEVELS.indexOf(a) >= LEVELS.indexOf(b);

export interface GroupResources {
  group?: string;
  resources?: string[];
  resourceNames?: string[];
}

export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  namespaces?: string[];
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

export interface Policy {
  apiVersion: "audit.k8s.io/v1";
  kind: "Policy";
  rules: PolicyRule[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

/** What a request is recorded at. */
export interface RequestAuditConfig {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

/** upstream pathMatches: "*", exact, or a trailing "*" prefix. */
function pathMatches(path: string, spec: string): boolean {
  if (spec === "*" || spec === path) return true;
  return spec.endsWith("*") && path.startsWith(spec.replace(/\*+$/, ""));
}

function resourceMatches(rule: PolicyRule, info: RequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  if (rule.namespaces && rule.namespaces.length > 0 && !rule.namespaces.includes(info.namespace)) return false;
  if (!rule.resources || rule.resources.length === 0) return true;
  const combined = info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
  for (const gr of rule.resources) {
    if ((gr.group ?? "") !== info.apiGroup) continue;
    if (!gr.resources || gr.resources.length === 0) return true;
    for (const res of gr.resources) {
      if (gr.resourceNames && gr.resourceNames.length > 0 && !gr.resourceNames.includes(info.name)) continue;
      if (res === combined || res === "*") return true;
      if (info.subresource && res.startsWith("*/") && info.subresource === res.slice(2)) return true;
      if (res.endsWith("/*") && info.resource === res.slice(0, -2)) return true;
    }
  }
  return false;
}

/** upstream ruleMatches. */
export function ruleMatches(rule: PolicyRule, user: UserInfo | undefined, info: RequestInfo): boolean {
  if (rule.users && rule.users.length > 0 && (!user || !rule.users.includes(user.name))) return false;
  if (rule.userGroups && rule.userGroups.length > 0) {
    if (!user?.groups.some((g) => rule.userGroups?.includes(g))) return false;
  }
  if (rule.verbs && rule.verbs.length > 0 && !rule.verbs.includes(info.verb)) return false;
  if ((rule.namespaces?.length ?? 0) > 0 || (rule.resources?.length ?? 0) > 0) return resourceMatches(rule, info);
  if (rule.nonResourceURLs && rule.nonResourceURLs.length > 0) {
    if (info.isResourceRequest) return false;
    return rule.nonResourceURLs.some((spec) => pathMatches(info.path, spec));
  }
  return true;
}

/** upstream policyRuleEvaluator.EvaluatePolicyRule. */
export function evaluatePolicy(policy: Policy, user: UserInfo | undefined, info: RequestInfo): RequestAuditConfig {
  for (const rule of policy.rules) {
    if (!ruleMatches(rule, user, info)) continue;
    return {
      level: rule.level,
      omitStages: [...new Set([...(policy.omitStages ?? []), ...(rule.omitStages ?? [])])],
      omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields ?? false,
    };
  }
  return { level: "None", omitStages: [...(policy.omitStages ?? [])], omitManagedFields: false };
}

/** upstream apis/audit/validation ValidatePolicy, as "field: message" strings. */
export function validatePolicy(p: Policy): string[] {
  const errs: string[] = [];
  const stages = (s: unknown, path: string) => {
    if (s === undefined) return;
    if (!Array.isArray(s)) return errs.push(`${path}: Invalid value: must be a list`);
    s.forEach((x, i) => {
      if (!(STAGES as readonly unknown[]).includes(x))
        errs.push(
          `${path}[${i}]: Unsupported value: ${JSON.stringify(x)}: supported values: ${STAGES.map((v) => `"${v}"`).join(", ")}`,
        );
    });
  };
  stages(p.omitStages, "omitStages");
  if (!Array.isArray(p.rules)) {
    errs.push("rules: Required value");
    return errs;
  }
  p.rules.forEach((r, i) => {
    const path = `rules[${i}]`;
    if (!(LEVELS as readonly unknown[]).includes(r?.level))
      errs.push(
        `${path}.level: ${r?.level === undefined ? "Required value" : `Unsupported value: ${JSON.stringify(r.level)}: supported values: ${LEVELS.map((v) => `"${v}"`).join(", ")}`}`,
      );
    const hasResources = (r?.resources?.length ?? 0) > 0 || (r?.namespaces?.length ?? 0) > 0;
    if ((r?.nonResourceURLs?.length ?? 0) > 0 && hasResources)
      errs.push(
        `${path}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs`,
      );
    (r?.nonResourceURLs ?? []).forEach((u, j) => {
      if (u === "*") return;
      if (!u.startsWith("/"))
        errs.push(
          `${path}.nonResourceURLs[${j}]: Invalid value: ${JSON.stringify(u)}: non-resource URL rules must begin with a '/' character`,
        );
      else if (u.slice(0, -1).includes("*"))
        errs.push(
          `${path}.nonResourceURLs[${j}]: Invalid value: ${JSON.stringify(u)}: non-resource URL wildcards ('*') must be the final character of the rule`,
        );
    });
    (r?.resources ?? []).forEach((gr, j) => {
      if ((gr.resourceNames?.length ?? 0) > 0 && (gr.resources?.length ?? 0) === 0)
        errs.push(
          `${path}.resources[${j}].resourceNames: Invalid value: using resourceNames requires at least one resource`,
        );
    });
    stages(r?.omitStages, `${path}.omitStages`);
  });
  return errs;
}

/** upstream LoadPolicyFromBytes: YAML or JSON, audit.k8s.io/v1 Policy, validated, at least one rule. */
export function parsePolicy(text: string, source: string): Policy {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`failed decoding file ${JSON.stringify(source)}: ${(err as Error).message}`, { cause: err });
  }
  const p = (doc ?? {}) as Partial<Policy> & { apiVersion?: unknown; kind?: unknown };
  if (p.kind !== "Policy" || p.apiVersion !== "audit.k8s.io/v1") {
    throw new Error(
      `failed decoding file ${JSON.stringify(source)}: no kind ${JSON.stringify(String(p.kind ?? ""))} is registered for version ${JSON.stringify(String(p.apiVersion ?? ""))}`,
    );
  }
  const policy = p as Policy;
  const errs = validatePolicy(policy);
  if (errs.length > 0) throw new Error(`invalid audit policy file ${JSON.stringify(source)}: ${errs.join(", ")}`);
  if (policy.rules.length === 0) throw new Error(`loaded illegal policy with 0 rules from file ${source}`);
  return policy;
}

export function loadPolicyFile(path: string): Policy {
  return parsePolicy(readFileSync(path, "utf8"), path);
}
