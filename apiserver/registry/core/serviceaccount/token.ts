// serviceaccounts/{name}/token: TokenRequest (upstream pkg/registry/core/serviceaccount/storage/
// token.go and pkg/apis/authentication/validation). A create answers the request back with a
// signed token in status; nothing is stored. The ServiceAccount must exist; a boundObjectRef
// names a Pod (which must run as that ServiceAccount; its node goes into the claims too), a
// Secret or a Node of the namespace, which must exist (with the UID given, if one is) and
// whose deletion then invalidates the token. expirationSeconds defaults to an hour, must be at
// least 10 minutes, is cut to --service-account-max-token-expiration (with a warning), and a
// kubelet's 1 h 7 s pod-bound request for the API's audiences is extended to a year with a
// warnafter claim when --service-account-extend-token-expiration is on, as upstream.

import {
  badRequest,
  conflict,
  type FieldError,
  fieldInvalid,
  internalError,
  invalid,
  isNotFound,
} from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { NODES, PODS, type ResourceInfo, SECRETS, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { BoundObjectReference, TokenRequest } from "#pkg/api/types/authentication.js";
import type { Node, Pod, Secret, ServiceAccount } from "#pkg/api/types/index.js";
import type { RequestSink } from "../../../admission/attributes.js";
import {
  type BoundObjects,
  credentialIDForJTI,
  ISSUED_CREDENTIAL_ID_ANNOTATION,
  tokenClaims,
  WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS,
} from "../../../auth/serviceaccount/claims.js";
import type { JWTTokenGenerator } from "../../../auth/serviceaccount/jwt.js";
import type { StoreView } from "../../../http/types.js";

export const TOKEN_REQUEST_API_VERSION = "authentication.k8s.io/v1";
const GROUP = "authentication.k8s.io";
const KIND = "TokenRequest";

/** upstream SetDefaults_TokenRequestSpec: one hour. */
export const DEFAULT_EXPIRATION_SECONDS = 60 * 60;
/** upstream MinTokenAgeSec. */
export const MIN_EXPIRATION_SECONDS = 10 * 60;
const MAX_EXPIRATION_SECONDS = 2 ** 32;

export interface TokenRESTOptions {
  generator: JWTTokenGenerator;
  /** --api-audiences: a request's audiences when it names none. */
  audiences: readonly string[];
  /** --service-account-max-token-expiration in seconds; 0: no cap. */
  maxExpirationSeconds: number;
  /** --service-account-extend-token-expiration. */
  extendExpiration: boolean;
  /** How long an extended token lives (a year, or the max expiration when shorter). */
  maxExtendedExpirationSeconds: number;
  /** The stores the request's objects are read from (the server's registry). */
  store(r: ResourceInfo): Pick<StoreView, "get">;
  now?: () => Date;
}

/** upstream ValidateTokenRequest. */
export function validateTokenRequest(expirationSeconds: number): FieldError[] {
  const errs: FieldError[] = [];
  if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    errs.push(
      fieldInvalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration less than 10 minutes"),
    );
  if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    errs.push(
      fieldInvalid("spec.expirationSeconds", expirationSeconds, "may not specify a duration larger than 2^32 seconds"),
    );
  return errs;
}

/** upstream schema.FromAPIVersionAndKind(...).String(): "group/version, Kind=kind". */
function gvkOf(ref: BoundObjectReference): { group: string; version: string; kind: string; text: string } {
  const apiVersion = ref.apiVersion ?? "";
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const kind = ref.kind ?? "";
  return { group, version, kind, text: `${group}/${version}, Kind=${kind}` };
}

/** The body as a TokenRequest (kind and apiVersion checked, nulls of Go's encoder dropped). */
function requestOf(body: KubeObject): TokenRequest {
  if (body.apiVersion && body.apiVersion !== TOKEN_REQUEST_API_VERSION) {
    throw badRequest(
      `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${TOKEN_REQUEST_API_VERSION})`,
    );
  }
  if (body.kind && body.kind !== KIND) {
    throw badRequest(
      `the object provided is unrecognized (must be of type ${KIND}): kind "${String(body.kind)}" does not match the URL`,
    );
  }
  const spec = (body.spec ?? {}) as NonNullable<TokenRequest["spec"]>;
  const req: TokenRequest = {
    apiVersion: TOKEN_REQUEST_API_VERSION,
    kind: KIND,
    metadata: Object.fromEntries(Object.entries(body.metadata).filter(([, v]) => v !== null)),
    spec: {
      audiences: (spec.audiences ?? []).filter((a) => typeof a === "string"),
      expirationSeconds: spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS,
    },
  };
  if (spec.boundObjectRef) (req.spec as NonNullable<TokenRequest["spec"]>).boundObjectRef = spec.boundObjectRef;
  return req;
}

export class TokenREST {
  private readonly now: () => Date;
  private readonly audiences: ReadonlySet<string>;

  constructor(private readonly o: TokenRESTOptions) {
    this.now = o.now ?? (() => new Date());
    this.audiences = new Set(o.audiences);
  }

  /**
   * upstream TokenREST.Create for the ServiceAccount namespace/name; body has passed objectOf.
   * admit runs the admission chain on the defaulted, statically valid request (upstream's
   * createValidation: NodeRestriction narrows a kubelet's requests there).
   */
  async create(
    namespace: string,
    name: string,
    body: KubeObject,
    o: { sink?: RequestSink | undefined; admit?: (req: TokenRequest) => Promise<void> } = {},
  ): Promise<TokenRequest> {
    const sink = o.sink;
    const req = requestOf(body);
    const spec = req.spec as NonNullable<TokenRequest["spec"]> & { audiences: string[]; expirationSeconds: number };
    if (req.metadata.name && req.metadata.name !== name) {
      throw invalid(KIND, GROUP, name, [
        fieldInvalid("metadata.name", req.metadata.name, "must match the service account name if specified"),
      ]);
    }
    if (req.metadata.namespace && req.metadata.namespace !== namespace) {
      throw invalid(KIND, GROUP, name, [
        fieldInvalid(
          "metadata.namespace",
          req.metadata.namespace,
          "must match the service account namespace if specified",
        ),
      ]);
    }
    const sa = (await this.o.store(SERVICEACCOUNTS).get(namespace, name)) as ServiceAccount;

    if (spec.audiences.length === 0) spec.audiences = [...this.o.audiences];
    req.metadata.name = sa.metadata.name ?? name;
    req.metadata.namespace = sa.metadata.namespace ?? namespace;
    // The time before the token is made: status.expirationTimestamp is never after its exp.
    const now = this.now();
    req.metadata.creationTimestamp = metaTime(now);

    const errs = validateTokenRequest(spec.expirationSeconds);
    if (errs.length > 0) throw invalid(KIND, GROUP, "", errs);
    await o.admit?.(structuredClone(req));

    const bound = spec.boundObjectRef ? await this.bound(namespace, name, spec.boundObjectRef) : {};

    const max = this.o.maxExpirationSeconds;
    if (max > 0 && spec.expirationSeconds > max) {
      sink?.warnings.push(`requested expiration of ${spec.expirationSeconds} seconds shortened to ${max} seconds`);
      spec.expirationSeconds = max;
    }
    // A kubelet's projected token (pod-bound, 1 h 7 s, for the API) lives a year but is flagged
    // stale after the hour: old clients that never reread their token keep working, visibly.
    let exp = spec.expirationSeconds;
    let warnAfter = 0;
    if (
      this.o.extendExpiration &&
      bound.pod &&
      spec.expirationSeconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS &&
      spec.audiences.every((a) => this.audiences.has(a))
    ) {
      warnAfter = exp;
      exp = this.o.maxExtendedExpirationSeconds;
    }

    const claims = tokenClaims({
      sa,
      bound,
      expirationSeconds: exp,
      warnAfterSeconds: warnAfter,
      audiences: spec.audiences,
      now,
    });
    let token: string;
    try {
      token = await this.o.generator.generateToken(claims);
    } catch (err) {
      throw internalError(`Internal error occurred: failed to generate token: ${(err as Error).message}`);
    }
    if (sink && claims.jti) sink.annotations[ISSUED_CREDENTIAL_ID_ANNOTATION] = credentialIDForJTI(claims.jti);
    return {
      ...req,
      status: {
        token,
        expirationTimestamp: metaTime(now.getTime() + spec.expirationSeconds * 1000),
      },
    };
  }

  /** The object a token is bound to, checked as upstream. */
  private async bound(namespace: string, saName: string, ref: BoundObjectReference): Promise<BoundObjects> {
    const gvk = gvkOf(ref);
    const refName = ref.name ?? "";
    let uid: string | undefined;
    const bound: BoundObjects = {};
    if (gvk.group === "" && gvk.kind === "Pod") {
      const pod = (await this.o.store(PODS).get(namespace, refName)) as Pod;
      if (saName !== pod.spec?.serviceAccountName) {
        throw badRequest(
          `cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`,
        );
      }
      uid = pod.metadata.uid;
      bound.pod = pod;
      const nodeName = pod.spec?.nodeName;
      if (nodeName) {
        try {
          bound.node = (await this.o.store(NODES).get(undefined, nodeName)) as Node;
        } catch (err) {
          // A node that is gone still names where the pod ran, without a UID.
          if (!isNotFound(err)) throw internalError(`Internal error occurred: ${(err as Error).message}`);
          bound.node = { metadata: { name: nodeName } };
        }
      }
    } else if (gvk.group === "" && gvk.kind === "Node") {
      const node = (await this.o.store(NODES).get(undefined, refName)) as Node;
      uid = node.metadata.uid;
      bound.node = node;
    } else if (gvk.group === "" && gvk.kind === "Secret") {
      const secret = (await this.o.store(SECRETS).get(namespace, refName)) as Secret;
      uid = secret.metadata.uid;
      bound.secret = secret;
    } else {
      throw badRequest(`cannot bind token to object of type ${gvk.text}`);
    }
    if (ref.uid && ref.uid !== uid) {
      throw conflict(
        { group: gvk.group, resource: gvk.kind },
        refName,
        `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      );
    }
    return bound;
  }
}
