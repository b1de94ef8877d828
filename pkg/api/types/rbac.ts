// rbac.authorization.k8s.io/v1 (k8s.io/api/rbac/v1/types.go): Roles and ClusterRoles hold rules,
// RoleBindings and ClusterRoleBindings grant a role to subjects. The API server's RBAC
// authorizer evaluates them on every request.

import type { KubeObject } from "../meta.js";
import { List, Obj, Opt, type Static, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema, LabelSelectorSchema } from "./meta.js";

export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** Wildcards of a rule (rbacv1.VerbAll, APIGroupAll, ResourceAll, NonResourceAll). */
export const RULE_ALL = "*";

/** The annotation that marks bootstrap objects the API server keeps up to date at start. */
export const AUTO_UPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";

export const PolicyRuleSchema = Obj({
  verbs: List(Str(), "verbs this rule allows; '*' is every verb"),
  apiGroups: Opt(List(Str(), "API groups of the resources; '' is the core group, '*' every group")),
  resources: Opt(List(Str(), "resources (and 'resource/subresource'); '*' every resource")),
  resourceNames: Opt(List(Str(), "an optional allow-list of object names")),
  nonResourceURLs: Opt(List(Str(), "non-resource paths such as /healthz; a trailing '*' matches a prefix")),
});
export type PolicyRule = Static<typeof PolicyRuleSchema>;

export const AggregationRuleSchema = Obj({
  clusterRoleSelectors: Opt(List(LabelSelectorSchema, "ClusterRoles whose rules are merged into this one")),
});
export type AggregationRule = Static<typeof AggregationRuleSchema>;

export const SubjectSchema = Obj({
  kind: Str("User, Group or ServiceAccount"),
  apiGroup: Opt(Str()),
  name: Str(),
  namespace: Opt(Str()),
});
export type Subject = Static<typeof SubjectSchema>;

export const RoleRefSchema = Obj(
  { apiGroup: Str(), kind: Str("Role or ClusterRole"), name: Str() },
  { "x-kubernetes-map-type": "atomic" },
);
export type RoleRef = Static<typeof RoleRefSchema>;

export const RoleSchema = KindSchema("Role", { rules: Opt(List(PolicyRuleSchema)) });
export interface Role extends KubeObject, KindBody<typeof RoleSchema> {}

export const ClusterRoleSchema = KindSchema("ClusterRole", {
  rules: Opt(List(PolicyRuleSchema)),
  aggregationRule: Opt(AggregationRuleSchema),
});
export interface ClusterRole extends KubeObject, KindBody<typeof ClusterRoleSchema> {}

export const RoleBindingSchema = KindSchema("RoleBinding", {
  subjects: Opt(List(SubjectSchema)),
  roleRef: RoleRefSchema,
});
export interface RoleBinding extends KubeObject, KindBody<typeof RoleBindingSchema> {}

export const ClusterRoleBindingSchema = KindSchema("ClusterRoleBinding", {
  subjects: Opt(List(SubjectSchema)),
  roleRef: RoleRefSchema,
});
export interface ClusterRoleBinding extends KubeObject, KindBody<typeof ClusterRoleBindingSchema> {}
