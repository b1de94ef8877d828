// Escalation prevention (upstream component-helpers/auth/rbac/validation/policy_comparator.go,
// pkg/registry/rbac/validation/{rule.go,policy_compact.go}, pkg/registry/rbac/escalation_check.go):
// nobody writes a role or binding granting more than they hold, unless they are in
// system:masters or are allowed the `escalate` (roles) or `bind` (bindings) verb.

import type { PolicyRule, RoleRef } from "#pkg/api/types/rbac.js";
import { type Authorizer, resourceAttributes } from "../authorizer/authorizer.js";
import { SYSTEM_PRIVILEGED_GROUP, type UserInfo } from "../user.js";
import type { RuleResolver } from "./resolver.js";

const ALL = "*";

/** upstream BreakdownRule: one rule per group x resource x verb (x name), and per URL x verb. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const names = rule.resourceNames ?? [];
        if (names.length > 0) {
          for (const n of names)
            out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [n] });
        } else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

const hasAll = (set: readonly string[], wanted: readonly string[]) => wanted.every((w) => set.includes(w));

function resourceCoversAll(owner: readonly string[], wanted: readonly string[]): boolean {
  if (owner.includes(ALL) || hasAll(owner, wanted)) return true;
  return wanted.every((path) => {
    if (owner.includes(path)) return true;
    const slash = path.indexOf("/");
    if (slash < 0) return false;
    return owner.includes(`*/${path.slice(slash + 1)}`);
  });
}

function nonResourceURLCovers(owner: string, sub: string): boolean {
  return owner === sub || (owner.endsWith("*") && sub.startsWith(owner.replace(/\*+$/, "")));
}

/** upstream ruleCovers: does one owner rule cover a broken-down rule. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const ownerVerbs = owner.verbs;
  const verbs = ownerVerbs.includes(ALL) || hasAll(ownerVerbs, sub.verbs);
  const ownerGroups = owner.apiGroups ?? [];
  const groups = ownerGroups.includes(ALL) || hasAll(ownerGroups, sub.apiGroups ?? []);
  const resources = resourceCoversAll(owner.resources ?? [], sub.resources ?? []);
  const urls = (sub.nonResourceURLs ?? []).every((p) =>
    (owner.nonResourceURLs ?? []).some((o) => nonResourceURLCovers(o, p)),
  );
  const ownerNames = owner.resourceNames ?? [];
  const subNames = sub.resourceNames ?? [];
  const names =
    subNames.length === 0 ? ownerNames.length === 0 : ownerNames.length === 0 || hasAll(ownerNames, subNames);
  return verbs && groups && resources && names && urls;
}

/** upstream Covers: whether owner rules cover the servant rules, and the pieces they do not. */
export function covers(
  owner: readonly PolicyRule[],
  servant: readonly PolicyRule[],
): { covered: boolean; missing: PolicyRule[] } {
  const missing: PolicyRule[] = [];
  for (const sub of servant.flatMap(breakdownRule)) {
    if (!owner.some((o) => ruleCovers(o, sub))) missing.push(sub);
  }
  return { covered: missing.length === 0, missing };
}

/** upstream CompactRules: simple one-group one-resource rules that differ only by verb, merged. */
export function compactRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const compacted: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple =
      (r.resourceNames ?? []).length === 0 &&
      (r.nonResourceURLs ?? []).length === 0 &&
      (r.apiGroups ?? []).length === 1 &&
      (r.resources ?? []).length === 1;
    if (!isSimple) {
      compacted.push(r);
      continue;
    }
    const key = `${r.apiGroups?.[0]}\u0000${r.resources?.[0]}`;
    const existing = simple.get(key);
    if (existing) existing.verbs = [...existing.verbs, ...r.verbs];
    else
      simple.set(key, {
        apiGroups: [...(r.apiGroups ?? [])],
        resources: [...(r.resources ?? [])],
        verbs: [...r.verbs],
      });
  }
  return [...compacted, ...simple.values()];
}

/** Go's %q of a []string: ["a" "b"]. */
export function goQuoteList(items: readonly string[]): string {
  return `[${items.map((i) => JSON.stringify(i)).join(" ")}]`;
}

/** upstream CompactString: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if ((r.apiGroups ?? []).length > 0) parts.push(`APIGroups:${goQuoteList(r.apiGroups ?? [])}`);
  if ((r.resources ?? []).length > 0) parts.push(`Resources:${goQuoteList(r.resources ?? [])}`);
  if ((r.nonResourceURLs ?? []).length > 0) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs ?? [])}`);
  if ((r.resourceNames ?? []).length > 0) parts.push(`ResourceNames:${goQuoteList(r.resourceNames ?? [])}`);
  if (r.verbs.length > 0) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}

/**
 * upstream ConfirmNoEscalation: undefined when the user's rules in namespace cover rules, else
 * the message naming what is missing.
 */
export function escalationError(
  resolver: RuleResolver,
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
): string | undefined {
  const owned = resolver.rulesFor(user, namespace);
  const { covered, missing } = covers(owned.rules, rules);
  if (covered) return undefined;
  // A set: sorted, duplicates dropped.
  const described = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${described.join("\n")}`;
  if (owned.error) msg += `; resolution errors: [${owned.error}]`;
  return msg;
}

/** upstream EscalationAllowed: no user (internal writes) or system:masters. */
export function escalationAllowed(user: UserInfo | undefined): boolean {
  return user === undefined || user.groups.includes(SYSTEM_PRIVILEGED_GROUP);
}

/** upstream RoleEscalationAuthorized: the `escalate` verb on the role being written. */
export function roleEscalationAuthorized(
  authorizer: Authorizer | undefined,
  user: UserInfo,
  resource: "roles" | "clusterroles",
  namespace: string,
  name: string,
): boolean {
  if (!authorizer) return false;
  const a = resourceAttributes(user, {
    verb: "escalate",
    apiGroup: "rbac.authorization.k8s.io",
    resource,
    namespace,
    name,
  });
  return authorizer.authorize(a).decision === "Allow";
}

/** upstream BindingAuthorized: the `bind` verb on the referenced role, in the binding's namespace. */
export function bindingAuthorized(
  authorizer: Authorizer | undefined,
  user: UserInfo,
  ref: RoleRef,
  bindingNamespace: string,
): boolean {
  if (!authorizer) return false;
  let resource: string;
  if (ref.kind === "ClusterRole") resource = "clusterroles";
  else if (ref.kind === "Role") resource = "roles";
  else return false;
  const a = resourceAttributes(user, {
    verb: "bind",
    apiGroup: ref.apiGroup,
    resource,
    namespace: bindingNamespace,
    name: ref.name,
  });
  return authorizer.authorize(a).decision === "Allow";
}
