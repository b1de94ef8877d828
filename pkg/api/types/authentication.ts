// authentication.k8s.io/v1 (k8s.io/api/authentication/v1/types.go): SelfSubjectReview ("who am
// I" as the API server authenticated the request, `kubectl auth whoami`), TokenReview (is this
// token valid, and whose is it: what delegated authentication asks) and TokenRequest (the body
// of serviceaccounts/{name}/token). None is stored.

import type { KubeObject } from "../meta.js";
import { Bool, Int, List, MapOf, Obj, Opt, type Static, Str, Time } from "../schema/helpers.js";
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

export const TokenReviewSpecSchema = Obj({ token: Opt(Str()), audiences: Opt(List(Str())) });
export type TokenReviewSpec = Static<typeof TokenReviewSpecSchema>;
export const TokenReviewStatusSchema = Obj({
  authenticated: Opt(Bool()),
  user: Opt(UserInfoSchema),
  audiences: Opt(List(Str())),
  error: Opt(Str()),
});
export type TokenReviewStatus = Static<typeof TokenReviewStatusSchema>;
export const TokenReviewSchema = KindSchema("TokenReview", {
  spec: Opt(TokenReviewSpecSchema),
  status: Opt(TokenReviewStatusSchema),
});
export interface TokenReview extends KubeObject, KindBody<typeof TokenReviewSchema> {}

export const BoundObjectReferenceSchema = Obj({
  kind: Opt(Str()),
  apiVersion: Opt(Str()),
  name: Opt(Str()),
  uid: Opt(Str()),
});
export type BoundObjectReference = Static<typeof BoundObjectReferenceSchema>;
export const TokenRequestSpecSchema = Obj({
  audiences: Opt(List(Str())),
  expirationSeconds: Opt(Int()),
  boundObjectRef: Opt(BoundObjectReferenceSchema),
});
export type TokenRequestSpec = Static<typeof TokenRequestSpecSchema>;
export const TokenRequestSchema = KindSchema("TokenRequest", {
  spec: Opt(TokenRequestSpecSchema),
  status: Opt(Obj({ token: Opt(Str()), expirationTimestamp: Opt(Time()) })),
});
export interface TokenRequest extends KubeObject, KindBody<typeof TokenRequestSchema> {}
