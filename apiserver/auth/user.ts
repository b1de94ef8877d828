// Who made a request (upstream k8s.io/apiserver/pkg/authentication/user and serviceaccount):
// the user every authenticator produces, and the well-known names and groups the bootstrap
// policy and the authorizers speak of.

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
  /** Extra attributes (impersonation's Impersonate-Extra-*, a token's claims). */
  extra?: Record<string, string[]>;
}

export const SYSTEM_PRIVILEGED_GROUP = "system:masters";
export const NODES_GROUP = "system:nodes";
export const MONITORING_GROUP = "system:monitoring";
export const ALL_UNAUTHENTICATED = "system:unauthenticated";
export const ALL_AUTHENTICATED = "system:authenticated";
export const ANONYMOUS = "system:anonymous";
export const KUBE_PROXY = "system:kube-proxy";
export const KUBE_CONTROLLER_MANAGER = "system:kube-controller-manager";
export const KUBE_SCHEDULER = "system:kube-scheduler";
/** kubeling-dns's own identity (upstream's DNS runs as the ServiceAccount kube-system/kube-dns). */
export const KUBE_DNS = "system:kube-dns";
export const NODE_USER_PREFIX = "system:node:";

export const SERVICE_ACCOUNT_USERNAME_PREFIX = "system:serviceaccount:";
export const ALL_SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";

/** The anonymous user (upstream's anonymous authenticator). */
export function anonymousUser(): UserInfo {
  return { name: ANONYMOUS, uid: "", groups: [ALL_UNAUTHENTICATED] };
}

/**
 * upstream AuthenticatedGroupAdder: every authenticated user is in system:authenticated, unless
 * it is anonymous or already in it (or in system:unauthenticated).
 */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.name === ANONYMOUS) return u;
  if (u.groups.includes(ALL_AUTHENTICATED) || u.groups.includes(ALL_UNAUTHENTICATED)) return u;
  return { ...u, groups: [...u.groups, ALL_AUTHENTICATED] };
}

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
