// authentication.k8s.io/v1 SelfSubjectReview (k8s.io/api/authentication/v1/types.go): "who am I"
// as the API server authenticated the request (`kubectl auth whoami`). Never stored.

import type { KubeObject } from "../meta.js";
import { List, MapOf, Obj, Opt, type Static, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema } from "./meta.js";

export const AUTHENTICATION_GROUP = "authentication.k8s.io";

export const UserInfoSchema = Obj({
  username: Opt(Str()),
  uid: Opt(Str()),
  groups: Opt(List(Str())),
  extra: Opt(MapOf(List(Str()))),
});
export type UserInfoStatus = Static<typeof UserInfoSchema>;

export const SelfSubjectReviewSchema = KindSchema("SelfSubjectReview", {
  status: Opt(Obj({ userInfo: Opt(UserInfoSchema) })),
});
export interface SelfSubjectReview extends KubeObject, KindBody<typeof SelfSubjectReviewSchema> {}
