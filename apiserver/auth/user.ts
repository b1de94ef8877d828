// Who made a request (upstream k8s.io/apiserver/pkg/authentication/user and serviceaccount):
// the user every authenticator produces, and the well-known names and groups the bootstrap
// policy and the authorizers speak of.

import type { UserInfo } from "#pkg/server/authentication.js";

// The user, anonymous and the authenticated group are the same for every kubeling server.
export {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  anonymousUser,
  type UserInfo,
  withAuthenticatedGroup,
} from "#pkg/server/authentication.js";

export const SYSTEM_PRIVILEGED_GROUP = "system:masters";
export const NODES_GROUP = "system:nodes";
export const MONITORING_GROUP = "system:monitoring";
export const KUBE_PROXY = "system:kube-proxy";
export const KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager";
export const KUBE_SCHEDULER = "system:kube-scheduler";
/** kubeling-dns's own identity (upstream's DNS runs as the ServiceAccount kube-system/kube-dns). */
export const KUBE_DNS = "system:kube-dns";
export const NODE_USER_PREFIX = "system:node:";

export const SERVICE_ACCOUNT_USERNAME_PREFIX = "system:serviceaccount:";
export const ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";

export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_USERNAME_PREFIX}${namespace}:${name}`;
}

/** The groups of a service account's user: system:serviceaccounts and system:serviceaccounts:<ns>. */
export function serviceAccountGroups(namespace: string): string[] {
  return [ALL_SERVICE_ACCOUNTS_GROUP, `${ALL_SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}

/** upstream serviceaccount.SplitUsername: "system:serviceaccount:ns:name" -> {ns, name}, or undefined. */
export function splitServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_USERNAME_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_USERNAME_PREFIX.length).split(":");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** upstream nodeidentifier: a kubelet is system:node:<name> in system:nodes. */
export function nodeIdentity(u: UserInfo): { isNode: boolean; nodeName: string } {
  if (!u.name.startsWith(NODE_USER_PREFIX)) return { isNode: false, nodeName: "" };
  if (!u.groups.includes(NODES_GROUP)) return { isNode: false, nodeName: "" };
  return { isNode: true, nodeName: u.name.slice(NODE_USER_PREFIX.length) };
}
