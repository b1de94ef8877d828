// The create-only review resources (upstream pkg/registry/authorization/{subjectaccessreview,
// selfsubjectaccessreview,localsubjectaccessreview,selfsubjectrulesreview}/rest.go and
// pkg/registry/authentication/{selfsubjectreview,tokenreview}): each create puts a question to the server's
// authorizer (or authenticator) and answers the object back with its status; nothing is stored.

import { badRequest, type FieldError, fieldInvalid, invalid, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { metaTime } from "#pkg/api/time.js";
import type { TokenReviewSpec, TokenReviewStatus, UserInfoStatus } from "#pkg/api/types/authentication.js";
import type {
  NonResourceAttributes,
  ResourceAttributes,
  SelfSubjectAccessReviewSpec,
  SubjectAccessReviewSpec,
  SubjectAccessReviewStatus,
  SubjectRulesReviewStatus,
} from "#pkg/api/types/authorization.js";
import type { Attributes, Authorizer, RuleResolver } from "../../auth/authorizer/authorizer.js";
import { intersect, type TokenAuthenticator } from "../../auth/bearer.js";
import { type UserInfo, withAuthenticatedGroup } from "../../auth/user.js";

export interface ReviewDeps {
  authorizer: Authorizer;
  ruleResolver: RuleResolver;
  /** What TokenReview asks: the server's bearer-token authenticators; absent: nothing is authenticated. */
  tokens?: TokenAuthenticator;
  /** --api-audiences: a TokenReview's audiences when its spec names none. */
  apiAudiences?: readonly string[];
}

/** upstream matchAllVersionIfEmpty. */
const versionOrAll = (v: string | undefined) => (v ? v : "*");

/** upstream authorizationutil.ResourceAttributesFrom / NonResourceAttributesFrom. */
export function attributesFromSpec(
  user: UserInfo,
  spec: {
    resourceAttributes?: ResourceAttributes | undefined;
    nonResourceAttributes?: NonResourceAttributes | undefined;
  },
): Attributes {
  const r = spec.resourceAttributes;
  if (r) {
    return {
      user,
      verb: r.verb ?? "",
      resourceRequest: true,
      path: "",
      namespace: r.namespace ?? "",
      apiGroup: r.group ?? "",
      apiVersion: versionOrAll(r.version),
      resource: r.resource ?? "",
      subresource: r.subresource ?? "",
      name: r.name ?? "",
    };
  }
  const n = spec.nonResourceAttributes ?? {};
  return {
    user,
    verb: n.verb ?? "",
    resourceRequest: false,
    path: n.path ?? "",
    namespace: "",
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    name: "",
  };
}

/** upstream ValidateSelfSubjectAccessReviewSpec (the resource/non-resource exclusivity). */
function validateAttributesChoice(spec: SelfSubjectAccessReviewSpec | undefined): FieldError[] {
  const errs: FieldError[] = [];
  if (spec?.resourceAttributes && spec.nonResourceAttributes) {
    errs.push(
      fieldInvalid(
        "spec.nonResourceAttributes",
        spec.nonResourceAttributes,
        "cannot be specified in combination with resourceAttributes",
      ),
    );
  }
  if (!spec?.resourceAttributes && !spec?.nonResourceAttributes) {
    errs.push(
      fieldInvalid(
        "spec.resourceAttributes",
        spec?.nonResourceAttributes ?? null,
        "exactly one of nonResourceAttributes or resourceAttributes must be specified",
      ),
    );
  }
  return errs;
}

/** upstream: a review's metadata must be empty (but for a local review's namespace). */
function validateEmptyMeta(obj: KubeObject, allowNamespace: boolean): FieldError[] {
  const { managedFields: _m, namespace, ...rest } = obj.metadata;
  const extra = Object.values(rest).some((v) => v !== undefined && v !== "");
  if (extra || (!allowNamespace && namespace)) return [fieldInvalid("metadata", obj.metadata, "must be empty")];
  return [];
}

function statusOf(authorizer: Authorizer, a: Attributes): SubjectAccessReviewStatus {
  const r = authorizer.authorize(a);
  const status: SubjectAccessReviewStatus = { allowed: r.decision === "Allow" };
  if (r.decision === "Deny") status.denied = true;
  if (r.reason) status.reason = r.reason;
  if (r.error) status.evaluationError = r.error;
  return status;
}

function subjectOf(spec: SubjectAccessReviewSpec): UserInfo {
  const u: UserInfo = { name: spec.user ?? "", uid: spec.uid ?? "", groups: spec.groups ?? [] };
  if (spec.extra) u.extra = spec.extra;
  return u;
}

export class Reviews {
  constructor(private readonly deps: ReviewDeps) {}

  /** Answers a create of a review kind; obj has passed checkObject. */
  async create(kind: string, obj: KubeObject, user: UserInfo, namespace: string | undefined): Promise<KubeObject> {
    switch (kind) {
      case "TokenReview":
        return this.tokenReview(obj);
      case "SelfSubjectAccessReview":
        return this.selfSubjectAccessReview(obj, user);
      case "SubjectAccessReview":
        return this.subjectAccessReview(obj, false, namespace);
      case "LocalSubjectAccessReview":
        return this.subjectAccessReview(obj, true, namespace);
      case "SelfSubjectRulesReview":
        return this.selfSubjectRulesReview(obj, user);
      case "SelfSubjectReview":
        return selfSubjectReview(user);
      default:
        throw badRequest(`${kind} is not a review`);
    }
  }

  private selfSubjectAccessReview(obj: KubeObject, user: UserInfo): KubeObject {
    const spec = obj.spec as SelfSubjectAccessReviewSpec | undefined;
    const errs = validateAttributesChoice(spec);
    if (errs.length > 0) throw invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", errs);
    return { ...obj, status: statusOf(this.deps.authorizer, attributesFromSpec(user, spec ?? {})) };
  }

  private subjectAccessReview(obj: KubeObject, local: boolean, namespace: string | undefined): KubeObject {
    const kind = local ? "LocalSubjectAccessReview" : "SubjectAccessReview";
    const spec = (obj.spec ?? {}) as SubjectAccessReviewSpec;
    const errs = [...validateAttributesChoice(spec), ...validateEmptyMeta(obj, local)];
    if (!spec.user && (spec.groups ?? []).length === 0) {
      errs.push(fieldInvalid("spec.user", spec.user ?? "", "at least one of user or group must be specified"));
    }
    if (local && spec.nonResourceAttributes) {
      errs.push(
        fieldInvalid("spec.nonResourceAttributes", spec.nonResourceAttributes, "disallowed on this kind of request"),
      );
    }
    if (errs.length > 0) throw invalid(kind, "authorization.k8s.io", "", errs);
    if (local) {
      if (!namespace) throw badRequest(`namespace is required on this type: ${namespace ?? ""}`);
      if ((spec.resourceAttributes?.namespace ?? "") !== namespace) {
        throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
      }
    }
    return { ...obj, status: statusOf(this.deps.authorizer, attributesFromSpec(subjectOf(spec), spec)) };
  }

  /**
   * upstream pkg/registry/authentication/tokenreview: the token goes through the bearer-token
   * authenticators with the review's audiences (default: the API audiences). A token that does
   * not authenticate is an answer (authenticated false, the error), not a failed request.
   */
  private async tokenReview(obj: KubeObject): Promise<KubeObject> {
    const spec = (obj.spec ?? {}) as TokenReviewSpec;
    if (!spec.token) throw badRequest("token is required for TokenReview in authentication");
    const status: TokenReviewStatus = { authenticated: false };
    const review = { ...obj, status };
    const tokens = this.deps.tokens;
    if (!tokens) return review;
    const specAuds = spec.audiences ?? [];
    const auds = specAuds.length > 0 ? specAuds : (this.deps.apiAudiences ?? []);
    const r = await tokens.authenticateToken(spec.token, auds.length > 0 ? auds : undefined);
    if (r === undefined) {
      status.error = "invalid bearer token";
      return review;
    }
    if (!("user" in r)) {
      status.error = r.error;
      return review;
    }
    // upstream: an authenticator that answered none of the audiences asked for is a server bug.
    if (auds.length > 0 && intersect(auds, r.audiences).length === 0) {
      throw new StatusError(500, "InternalError", "Internal error occurred: error validating audiences");
    }
    status.authenticated = true;
    status.user = userInfoStatus(withAuthenticatedGroup(r.user));
    if (r.audiences.length > 0) status.audiences = r.audiences;
    return review;
  }

  private selfSubjectRulesReview(obj: KubeObject, user: UserInfo): KubeObject {
    const namespace = (obj.spec as { namespace?: string } | undefined)?.namespace ?? "";
    if (!namespace) throw badRequest("no namespace on request");
    const r = this.deps.ruleResolver.rulesFor(user, namespace);
    const status: SubjectRulesReviewStatus = {
      resourceRules: r.resourceRules.map((x) => {
        const rule: SubjectRulesReviewStatus["resourceRules"][number] = { verbs: x.verbs };
        if (x.apiGroups.length > 0) rule.apiGroups = x.apiGroups;
        if (x.resources.length > 0) rule.resources = x.resources;
        if (x.resourceNames.length > 0) rule.resourceNames = x.resourceNames;
        return rule;
      }),
      nonResourceRules: r.nonResourceRules.map((x) => ({ verbs: x.verbs, nonResourceURLs: x.nonResourceURLs })),
      incomplete: r.incomplete,
    };
    if (r.error) status.evaluationError = r.error;
    return { ...obj, status };
  }
}

/** A user as authentication.k8s.io/v1 UserInfo. */
function userInfoStatus(user: UserInfo): UserInfoStatus {
  const userInfo: UserInfoStatus = { username: user.name };
  if (user.uid) userInfo.uid = user.uid;
  if (user.groups.length > 0) userInfo.groups = user.groups;
  if (user.extra && Object.keys(user.extra).length > 0) userInfo.extra = user.extra;
  return userInfo;
}

/** upstream selfsubjectreview REST: the requester as authenticated. */
export function selfSubjectReview(user: UserInfo): KubeObject {
  const userInfo = userInfoStatus(user);
  return {
    apiVersion: "authentication.k8s.io/v1",
    kind: "SelfSubjectReview",
    metadata: { creationTimestamp: metaTime() },
    status: { userInfo },
  };
}
