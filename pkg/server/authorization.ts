// Request authorization for the servers that are not the API server (upstream
// k8s.io/apiserver/pkg/authorization/authorizerfactory delegating authorizer and
// plugin/pkg/authorizer/webhook): each request's attributes become a SubjectAccessReview the API
// server answers, allowed answers kept for --authorization-webhook-cache-authorized-ttl and the
// others for --authorization-webhook-cache-unauthorized-ttl; a review that could not be made is
// an error (the caller answers 500) and is not kept. The scheduler and controller-manager put
// two authorizers before it, as upstream's DelegatingAuthorizationOptions: paths always allowed
// (/healthz, /readyz, /livez) and groups always allowed (system:masters, which the API server
// allows everything anyway).

import type { FieldRequirement } from "../api/fields.js";
import { SUBJECTACCESSREVIEWS } from "../api/resources.js";
import type { SubjectAccessReview, SubjectAccessReviewSpec } from "../api/types/authorization.js";
import type { Clock } from "../runtime/clock.js";
import type { UserInfo } from "./authentication.js";
import { TtlCache } from "./ttl-cache.js";

/** upstream authorizer.Attributes (the API server's apiserver/auth/authorizer re-exports it). */
export interface Attributes {
  user: UserInfo;
  /** Kube verb (get, create, ...) of a resource request; the lower-case HTTP method of a non-resource one. */
  verb: string;
  resourceRequest: boolean;
  /** The URL path (non-resource requests). */
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
  /**
   * The parsed fieldSelector of a list, watch or deletecollection (upstream
   * GetFieldSelector, AuthorizeWithSelectors): absent when the request has none or it did not
   * parse, so an authorizer treats it as unfiltered.
   */
  fieldSelector?: readonly FieldRequirement[];
}

export type Decision = "Allow" | "Deny" | "NoOpinion";

export interface AuthorizationResult {
  decision: Decision;
  reason: string;
  /** The review could not be made (upstream's third return value). */
  error?: string;
}

export interface RequestAuthorizer {
  authorize(a: Attributes): AuthorizationResult | Promise<AuthorizationResult>;
}

/** Attributes of a non-resource request (upstream RequestInfo for a path outside /api and /apis). */
export function nonResourceAttributes(user: UserInfo, method: string, path: string): Attributes {
  return {
    user,
    verb: method.toLowerCase(),
    resourceRequest: false,
    path,
    namespace: "",
    apiGroup: "",
    apiVersion: "",
    resource: "",
    subresource: "",
    name: "",
  };
}

/** upstream webhook subjectAccessReview spec: empty fields left out, as Go's omitempty. */
export function subjectAccessReviewSpec(a: Attributes): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = { user: a.user.name, groups: [...a.user.groups] };
  if (a.user.uid) spec.uid = a.user.uid;
  if (a.user.extra && Object.keys(a.user.extra).length > 0) spec.extra = a.user.extra;
  if (a.resourceRequest) {
    const r: NonNullable<SubjectAccessReviewSpec["resourceAttributes"]> = {};
    if (a.namespace) r.namespace = a.namespace;
    if (a.verb) r.verb = a.verb;
    if (a.apiGroup) r.group = a.apiGroup;
    if (a.apiVersion) r.version = a.apiVersion;
    if (a.resource) r.resource = a.resource;
    if (a.subresource) r.subresource = a.subresource;
    if (a.name) r.name = a.name;
    spec.resourceAttributes = r;
  } else {
    spec.nonResourceAttributes = { ...(a.path ? { path: a.path } : {}), ...(a.verb ? { verb: a.verb } : {}) };
  }
  return spec;
}

/** The one call SubjectAccessReviewAuthorizer makes (an ApiClient has it). */
export interface SubjectAccessReviewClient {
  create(r: typeof SUBJECTACCESSREVIEWS, ns: undefined, obj: SubjectAccessReview): Promise<SubjectAccessReview>;
}

/** upstream's kubelet defaults (--authorization-webhook-cache-authorized-ttl=5m, -unauthorized-ttl=30s). */
export const KUBELET_AUTHORIZED_TTL_MS = 300_000;
export const KUBELET_UNAUTHORIZED_TTL_MS = 30_000;
/** upstream DelegatingAuthorizationOptions' defaults (10s both): the scheduler, the controller-manager. */
export const DELEGATED_AUTHORIZED_TTL_MS = 10_000;
export const DELEGATED_UNAUTHORIZED_TTL_MS = 10_000;

/** upstream webhook authorizer (plugin/pkg/authorizer/webhook) with its decision cache. */
export class SubjectAccessReviewAuthorizer implements RequestAuthorizer {
  readonly #client: SubjectAccessReviewClient;
  readonly #allowTtlMs: number;
  readonly #denyTtlMs: number;
  readonly #cache: TtlCache<AuthorizationResult>;

  constructor(
    client: SubjectAccessReviewClient,
    o: { authorizedTtlMs: number; unauthorizedTtlMs: number; clock?: Clock; maxEntries?: number },
  ) {
    this.#client = client;
    this.#allowTtlMs = o.authorizedTtlMs;
    this.#denyTtlMs = o.unauthorizedTtlMs;
    this.#cache = new TtlCache({
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.maxEntries ? { maxEntries: o.maxEntries } : {}),
    });
  }

  async authorize(a: Attributes): Promise<AuthorizationResult> {
    const spec = subjectAccessReviewSpec(a);
    try {
      return await this.#cache.getOrLoad(
        JSON.stringify(spec),
        () => this.#review(spec),
        (r) => (r.decision === "Allow" ? this.#allowTtlMs : this.#denyTtlMs),
      );
    } catch (err) {
      return { decision: "NoOpinion", reason: "", error: (err as Error).message };
    }
  }

  async #review(spec: SubjectAccessReviewSpec): Promise<AuthorizationResult> {
    const review = await this.#client.create(SUBJECTACCESSREVIEWS, undefined, {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      metadata: {},
      spec,
    });
    const s = review.status;
    const reason = s?.reason ?? "";
    if (s?.allowed) return { decision: "Allow", reason };
    if (s?.denied) return { decision: "Deny", reason };
    return { decision: "NoOpinion", reason };
  }
}

/**
 * upstream path authorizer (--authorization-always-allow-paths): a path given with a trailing
 * "*" allows every path it prefixes, any other allows exactly itself. Paths must start with "/".
 */
export function alwaysAllowPaths(paths: readonly string[]): (path: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of paths) {
    if (!p.startsWith("/")) throw new Error(`path ${JSON.stringify(p)} must start with "/"`);
    if (p.endsWith("*")) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return (path) => exact.has(path) || prefixes.some((p) => path.startsWith(p));
}

/** upstream DelegatingAuthorizationOptions' --authorization-always-allow-paths of the scheduler and controller-manager. */
export const DEFAULT_ALWAYS_ALLOW_PATHS = ["/healthz", "/readyz", "/livez"];
/** upstream DelegatingAuthorizationOptions.AlwaysAllowGroups. */
export const DEFAULT_ALWAYS_ALLOW_GROUPS = ["system:masters"];

/**
 * upstream's delegated authorizer union: the always-allowed paths (non-resource requests only),
 * the always-allowed groups, then the SubjectAccessReview; the first decision that is not
 * NoOpinion wins.
 */
export class DelegatingAuthorizer implements RequestAuthorizer {
  readonly #allowPath: (path: string) => boolean;
  readonly #allowGroups: ReadonlySet<string>;

  constructor(
    private readonly webhook: RequestAuthorizer,
    o: { alwaysAllowPaths?: readonly string[]; alwaysAllowGroups?: readonly string[] } = {},
  ) {
    this.#allowPath = alwaysAllowPaths(o.alwaysAllowPaths ?? []);
    this.#allowGroups = new Set(o.alwaysAllowGroups ?? []);
  }

  async authorize(a: Attributes): Promise<AuthorizationResult> {
    if (!a.resourceRequest && this.#allowPath(a.path)) return { decision: "Allow", reason: "" };
    if (a.user.groups.some((g) => this.#allowGroups.has(g))) return { decision: "Allow", reason: "" };
    return this.webhook.authorize(a);
  }
}

/** upstream forbiddenMessage of a non-resource request. */
export function nonResourceForbiddenMessage(a: Attributes): string {
  return `User ${JSON.stringify(a.user.name)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
}
