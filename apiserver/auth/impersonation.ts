// Impersonation (upstream k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): a user
// allowed the `impersonate` verb acts as another user (Impersonate-User; a service account's
// name maps to serviceaccounts in its namespace), with other groups (Impersonate-Group), uid
// (Impersonate-Uid) and extra attributes (Impersonate-Extra-<key>). Each piece is authorized on
// its own; the first refusal answers 403. kubectl's --as and --as-group send these headers.

import { badRequest } from "#pkg/api/errors.js";
import { type Attributes, type Authorizer, resourceAttributes } from "./authorizer/authorizer.js";
import { forbidden } from "./authorizer/forbidden.js";
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  type UserInfo,
} from "./user.js";

export const IMPERSONATE_USER = "impersonate-user";
export const IMPERSONATE_GROUP = "impersonate-group";
export const IMPERSONATE_UID = "impersonate-uid";
export const IMPERSONATE_EXTRA_PREFIX = "impersonate-extra-";

/** The request's headers, each name lower-case with every value (Node's headersDistinct). */
export type DistinctHeaders = Record<string, string[] | undefined>;

type Request =
  | { kind: "ServiceAccount"; namespace: string; name: string }
  | { kind: "User"; name: string }
  | { kind: "Group"; name: string }
  | { kind: "UserExtra"; key: string; value: string }
  | { kind: "UID"; name: string };

/** upstream unescapeExtraKey: the key is percent-encoded in the header name. */
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** Every value of every header: Node's headersDistinct, or built from headers (app.inject has none). */
export function distinctHeaders(req: {
  headersDistinct?: DistinctHeaders;
  headers: Record<string, string | string[] | undefined>;
}): DistinctHeaders {
  if (req.headersDistinct) return req.headersDistinct;
  const out: DistinctHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v : [v];
  }
  return out;
}

export function hasImpersonation(headers: DistinctHeaders): boolean {
  return Object.keys(headers).some((h) => h.startsWith("impersonate-"));
}

function requestsOf(headers: DistinctHeaders): Request[] {
  const out: Request[] = [];
  const userName = headers[IMPERSONATE_USER]?.[0] ?? "";
  if (userName) {
    const sa = splitServiceAccountUsername(userName);
    out.push(sa ? { kind: "ServiceAccount", ...sa } : { kind: "User", name: userName });
  }
  const groups = headers[IMPERSONATE_GROUP] ?? [];
  for (const g of groups) out.push({ kind: "Group", name: g });
  let hasExtra = false;
  for (const [h, values] of Object.entries(headers)) {
    if (!h.startsWith(IMPERSONATE_EXTRA_PREFIX)) continue;
    hasExtra = true;
    const key = unescapeExtraKey(h.slice(IMPERSONATE_EXTRA_PREFIX.length).toLowerCase());
    for (const v of values ?? []) out.push({ kind: "UserExtra", key, value: v });
  }
  const uid = headers[IMPERSONATE_UID]?.[0] ?? "";
  if (uid) out.push({ kind: "UID", name: uid });
  if ((groups.length > 0 || hasExtra || uid) && !userName) {
    throw badRequest(`requested ${JSON.stringify(out)} without impersonating a user`);
  }
  return out;
}

function attributesOf(requestor: UserInfo, r: Request): Attributes {
  const base = { verb: "impersonate" };
  switch (r.kind) {
    case "ServiceAccount":
      return resourceAttributes(requestor, {
        ...base,
        resource: "serviceaccounts",
        namespace: r.namespace,
        name: r.name,
        apiVersion: "v1",
      });
    case "User":
      return resourceAttributes(requestor, { ...base, resource: "users", name: r.name, apiVersion: "v1" });
    case "Group":
      return resourceAttributes(requestor, { ...base, resource: "groups", name: r.name, apiVersion: "v1" });
    case "UserExtra":
      return resourceAttributes(requestor, {
        ...base,
        apiGroup: "authentication.k8s.io",
        apiVersion: "v1",
        resource: "userextras",
        subresource: r.key,
        name: r.value,
      });
    case "UID":
      return resourceAttributes(requestor, {
        ...base,
        apiGroup: "authentication.k8s.io",
        apiVersion: "v1",
        resource: "uids",
        name: r.name,
      });
  }
}

/**
 * impersonate: the user the request acts as. No impersonation headers: requestor itself. Throws
 * the 400/403 StatusError to answer with.
 */
export function impersonate(requestor: UserInfo, headers: DistinctHeaders, authorizer: Authorizer): UserInfo {
  const requests = requestsOf(headers);
  if (requests.length === 0) return requestor;
  const groupsSpecified = (headers[IMPERSONATE_GROUP] ?? []).length > 0;
  let name = "";
  let groups: string[] = [];
  let uid = "";
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const a = attributesOf(requestor, r);
    const decision = authorizer.authorize(a);
    if (decision.decision !== "Allow") throw forbidden(a, decision.reason);
    switch (r.kind) {
      case "ServiceAccount":
        name = serviceAccountUsername(r.namespace, r.name);
        if (!groupsSpecified) groups = serviceAccountGroups(r.namespace);
        break;
      case "User":
        name = r.name;
        break;
      case "Group":
        groups.push(r.name);
        break;
      case "UserExtra":
        extra[r.key] = [...(extra[r.key] ?? []), r.value];
        break;
      case "UID":
        uid = r.name;
        break;
    }
  }
  if (name !== ANONYMOUS) {
    if (!groups.includes(ALL_AUTHENTICATED) && !groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_AUTHENTICATED);
  } else if (!groups.includes(ALL_UNAUTHENTICATED)) groups.push(ALL_UNAUTHENTICATED);
  const user: UserInfo = { name, uid, groups };
  if (Object.keys(extra).length > 0) user.extra = extra;
  return user;
}
