// authorization.k8s.io/v1 (k8s.io/api/authorization/v1/types.go): questions put to the API
// server's authorizer. They are never stored: a create answers with the object and its status.

import type { KubeObject } from "../meta.js";
import { Bool, List, MapOf, Obj, Opt, type Static, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema } from "./meta.js";

export const AUTHORIZATION_GROUP = "authorization.k8s.io";

export const ResourceAttributesSchema = Obj({
  namespace: Opt(Str()),
  verb: Opt(Str()),
  group: Opt(Str()),
  version: Opt(Str()),
  resource: Opt(Str()),
  subresource: Opt(Str()),
  name: Opt(Str()),
});
export type ResourceAttributes = Static<typeof ResourceAttributesSchema>;

export const NonResourceAttributesSchema = Obj({ path: Opt(Str()), verb: Opt(Str()) });
export type NonResourceAttributes = Static<typeof NonResourceAttributesSchema>;

export const SubjectAccessReviewSpecSchema = Obj({
  resourceAttributes: Opt(ResourceAttributesSchema),
  nonResourceAttributes: Opt(NonResourceAttributesSchema),
  user: Opt(Str()),
  groups: Opt(List(Str())),
  extra: Opt(MapOf(List(Str()))),
  uid: Opt(Str()),
});
export type SubjectAccessReviewSpec = Static<typeof SubjectAccessReviewSpecSchema>;

export const SelfSubjectAccessReviewSpecSchema = Obj({
  resourceAttributes: Opt(ResourceAttributesSchema),
  nonResourceAttributes: Opt(NonResourceAttributesSchema),
});
export type SelfSubjectAccessReviewSpec = Static<typeof SelfSubjectAccessReviewSpecSchema>;

export const SubjectAccessReviewStatusSchema = Obj({
  allowed: Bool(),
  denied: Opt(Bool()),
  reason: Opt(Str()),
  evaluationError: Opt(Str()),
});
export type SubjectAccessReviewStatus = Static<typeof SubjectAccessReviewStatusSchema>;

export const SubjectAccessReviewSchema = KindSchema("SubjectAccessReview", {
  spec: SubjectAccessReviewSpecSchema,
  status: Opt(SubjectAccessReviewStatusSchema),
});
export interface SubjectAccessReview extends KubeObject, KindBody<typeof SubjectAccessReviewSchema> {}

export const LocalSubjectAccessReviewSchema = KindSchema("LocalSubjectAccessReview", {
  spec: SubjectAccessReviewSpecSchema,
  status: Opt(SubjectAccessReviewStatusSchema),
});
export interface LocalSubjectAccessReview extends KubeObject, KindBody<typeof LocalSubjectAccessReviewSchema> {}

export const SelfSubjectAccessReviewSchema = KindSchema("SelfSubjectAccessReview", {
  spec: SelfSubjectAccessReviewSpecSchema,
  status: Opt(SubjectAccessReviewStatusSchema),
});
export interface SelfSubjectAccessReview extends KubeObject, KindBody<typeof SelfSubjectAccessReviewSchema> {}

export const ResourceRuleSchema = Obj({
  verbs: List(Str()),
  apiGroups: Opt(List(Str())),
  resources: Opt(List(Str())),
  resourceNames: Opt(List(Str())),
});
export type ResourceRule = Static<typeof ResourceRuleSchema>;

export const NonResourceRuleSchema = Obj({ verbs: List(Str()), nonResourceURLs: Opt(List(Str())) });
export type NonResourceRule = Static<typeof NonResourceRuleSchema>;

export const SubjectRulesReviewStatusSchema = Obj({
  resourceRules: List(ResourceRuleSchema),
  nonResourceRules: List(NonResourceRuleSchema),
  incomplete: Bool(),
  evaluationError: Opt(Str()),
});
export type SubjectRulesReviewStatus = Static<typeof SubjectRulesReviewStatusSchema>;

export const SelfSubjectRulesReviewSchema = KindSchema("SelfSubjectRulesReview", {
  spec: Obj({ namespace: Opt(Str()) }),
  status: Opt(SubjectRulesReviewStatusSchema),
});
export interface SelfSubjectRulesReview extends KubeObject, KindBody<typeof SelfSubjectRulesReviewSchema> {}
