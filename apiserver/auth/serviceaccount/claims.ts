// The claims of a bound ServiceAccount token and their validation (upstream pkg/serviceaccount/
// claims.go and k8s.io/apiserver/pkg/authentication/serviceaccount): what TokenRequest signs
// (iss, sub, aud, exp, iat, nbf, jti, and the private "kubernetes.io" claim naming the
// namespace, the ServiceAccount and the object the token is bound to), and what the token
// authenticator checks once the signature holds: the times (with go-jose's one minute of
// leeway), that the ServiceAccount still exists with the same UID, and that the bound pod, secret
// or node does too. Keys are written in the order upstream's encoder writes them (sorted).

import { randomUUID } from "node:crypto";
import type { Node, Pod, Secret, ServiceAccount } from "#pkg/api/types/index.js";
import { serviceAccountGroups, serviceAccountUsername, type UserInfo } from "../user.js";

/** upstream WarnOnlyBoundTokenExpirationSeconds: what kubelets ask for a projected token (1 h 7 s). */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7;
/** upstream ExpirationExtensionSeconds: how long such a token really lives when extended (1 year). */
export const EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60;
/** go-jose's jwt.DefaultLeeway. */
export const LEEWAY_SECONDS = 60;

export const POD_NAME_KEY = "authentication.kubernetes.io/pod-name";
export const POD_UID_KEY = "authentication.kubernetes.io/pod-uid";
export const NODE_NAME_KEY = "authentication.kubernetes.io/node-name";
export const NODE_UID_KEY = "authentication.kubernetes.io/node-uid";
export const CREDENTIAL_ID_KEY = "authentication.kubernetes.io/credential-id";
/** The audit annotation of the TokenRequest that issued a token (upstream IssuedCredentialIDAuditAnnotationKey). */
export const ISSUED_CREDENTIAL_ID_ANNOTATION = "authentication.kubernetes.io/issued-credential-id";

export interface ObjectRef {
  name: string;
  uid: string;
}

export interface KubernetesClaim {
  namespace?: string;
  node?: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  serviceaccount?: ObjectRef;
  /** NumericDate: after this the token is stale (logged), though still valid until exp. */
  warnafter?: number;
}

/** A token's payload: the registered claims and the private one. */
export interface TokenClaims {
  aud?: string[] | string;
  exp?: number;
  iat?: number;
  iss?: string;
  jti?: string;
  "kubernetes.io"?: KubernetesClaim;
  nbf?: number;
  sub?: string;
}

/** What a token bound to: at most one of pod (with its node, when known), secret, node. */
export interface BoundObjects {
  pod?: Pod;
  secret?: Secret;
  node?: Pick<Node, "metadata">;
}

const refOf = (o: { metadata: { name?: string | undefined; uid?: string | undefined } }): ObjectRef => ({
  name: o.metadata.name ?? "",
  uid: o.metadata.uid ?? "",
});

const numericDate = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * upstream Claims: the payload of a token for sa, without iss (the generator's). now is the
 * issue time; expirationSeconds counts from it; warnAfter (seconds, 0: none) marks when a
 * lifetime-extended token turns stale.
 */
export function tokenClaims(o: {
  sa: ServiceAccount;
  bound?: BoundObjects;
  expirationSeconds: number;
  warnAfterSeconds?: number;
  audiences: readonly string[];
  now: Date;
  jti?: string;
}): TokenClaims {
  const { sa, now } = o;
  const bound = o.bound ?? {};
  if (bound.secret && (bound.pod || bound.node))
    throw new Error("internal error, token can only be bound to one object type");
  const k: KubernetesClaim = { namespace: sa.metadata.namespace ?? "" };
  if (bound.pod) {
    if (bound.node) k.node = refOf(bound.node);
    k.pod = refOf(bound.pod);
  } else if (bound.secret) k.secret = refOf(bound.secret);
  else if (bound.node) k.node = refOf(bound.node);
  k.serviceaccount = refOf(sa);
  if (o.warnAfterSeconds) k.warnafter = numericDate(now) + o.warnAfterSeconds;
  const iat = numericDate(now);
  return {
    aud: [...o.audiences],
    exp: iat + o.expirationSeconds,
    iat,
    jti: o.jti ?? randomUUID(),
    "kubernetes.io": k,
    nbf: iat,
    sub: serviceAccountUsername(sa.metadata.namespace ?? "", sa.metadata.name ?? ""),
  };
}

/** How the validator finds the objects a token names (upstream ServiceAccountTokenGetter); misses throw. */
export interface ServiceAccountTokenGetter {
  getServiceAccount(namespace: string, name: string): Promise<ServiceAccount>;
  getPod(namespace: string, name: string): Promise<Pod>;
  getSecret(namespace: string, name: string): Promise<Secret>;
  getNode(name: string): Promise<Node>;
}

/** upstream apiserverserviceaccount.ServiceAccountInfo. */
export interface ServiceAccountInfo {
  namespace: string;
  name: string;
  uid: string;
  podName?: string;
  podUID?: string;
  nodeName?: string;
  nodeUID?: string;
  credentialID?: string;
}

/** upstream ServiceAccountInfo.UserInfo: the user a valid token authenticates as. */
export function serviceAccountUser(sa: ServiceAccountInfo): UserInfo {
  const extra: Record<string, string[]> = {};
  if (sa.podName && sa.podUID) {
    extra[POD_NAME_KEY] = [sa.podName];
    extra[POD_UID_KEY] = [sa.podUID];
  }
  if (sa.credentialID) extra[CREDENTIAL_ID_KEY] = [sa.credentialID];
  if (sa.nodeName) {
    extra[NODE_NAME_KEY] = [sa.nodeName];
    if (sa.nodeUID) extra[NODE_UID_KEY] = [sa.nodeUID];
  }
  const user: UserInfo = {
    name: serviceAccountUsername(sa.namespace, sa.name),
    uid: sa.uid,
    groups: serviceAccountGroups(sa.namespace),
  };
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}

/** upstream CredentialIDForJTI. */
export function credentialIDForJTI(jti: string | undefined): string {
  return jti ? `JTI=${jti}` : "";
}

export class TokenInvalidError extends Error {}

const fail = (message: string): never => {
  throw new TokenInvalidError(message);
};

function deletedBefore(meta: { deletionTimestamp?: string | undefined }, cutoff: number): boolean {
  return meta.deletionTimestamp !== undefined && Date.parse(meta.deletionTimestamp) < cutoff;
}

/** The message of a lookup's failure (a Status error's, or the error's). */
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * upstream validator.Validate: the token's times, then the objects it names. Throws a
 * TokenInvalidError with upstream's message when the token is not (or no longer) valid.
 */
export async function validateClaims(
  claims: TokenClaims,
  getter: ServiceAccountTokenGetter,
  now: Date,
): Promise<ServiceAccountInfo> {
  const t = now.getTime() / 1000;
  if (claims.nbf !== undefined && t + LEEWAY_SECONDS < claims.nbf) fail("service account token is not valid yet");
  if (claims.exp !== undefined && t - LEEWAY_SECONDS > claims.exp) fail("service account token has expired");
  if (claims.iat !== undefined && t + LEEWAY_SECONDS < claims.iat)
    fail("service account token is issued in the future");

  // Things deleted before now minus the leeway are gone.
  const cutoff = now.getTime() - LEEWAY_SECONDS * 1000;
  const k = claims["kubernetes.io"] ?? {};
  const namespace = k.namespace ?? "";
  const saref = k.serviceaccount ?? { name: "", uid: "" };
  let sa: ServiceAccount;
  try {
    sa = await getter.getServiceAccount(namespace, saref.name);
  } catch (err) {
    return fail(messageOf(err));
  }
  if (deletedBefore(sa.metadata, cutoff)) fail(`service account ${namespace}/${saref.name} has been deleted`);
  if ((sa.metadata.uid ?? "") !== saref.uid)
    fail(`service account UID (${sa.metadata.uid ?? ""}) does not match claim (${saref.uid})`);

  if (k.secret) {
    const ref = k.secret;
    const secret = await getter.getSecret(namespace, ref.name).catch(() => undefined);
    if (!secret || deletedBefore(secret.metadata, cutoff)) fail("service account token has been invalidated");
    if (ref.uid !== (secret?.metadata.uid ?? ""))
      fail(`secret UID (${secret?.metadata.uid ?? ""}) does not match service account secret ref claim (${ref.uid})`);
  }

  const info: ServiceAccountInfo = { namespace, name: saref.name, uid: saref.uid };
  if (k.pod) {
    const ref = k.pod;
    const pod = await getter.getPod(namespace, ref.name).catch(() => undefined);
    if (!pod || deletedBefore(pod.metadata, cutoff)) fail("service account token has been invalidated");
    if (ref.uid !== (pod?.metadata.uid ?? ""))
      fail(`pod UID (${pod?.metadata.uid ?? ""}) does not match service account pod ref claim (${ref.uid})`);
    info.podName = ref.name;
    info.podUID = ref.uid;
  }

  if (k.node) {
    const ref = k.node;
    if (!k.pod) {
      // Bound to the node itself: the node must still exist.
      const node = await getter.getNode(ref.name).catch(() => undefined);
      if (!node) fail("service account token has been invalidated");
      if (ref.uid !== (node?.metadata.uid ?? ""))
        fail(`node UID (${node?.metadata.uid ?? ""}) does not match service account node ref claim (${ref.uid})`);
    }
    // A pod-bound token only tells where its pod ran.
    info.nodeName = ref.name;
    if (ref.uid) info.nodeUID = ref.uid;
  }

  const credentialID = credentialIDForJTI(claims.jti);
  if (credentialID) info.credentialID = credentialID;
  return info;
}
