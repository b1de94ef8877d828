// Who made a request (upstream k8s.io/apiserver/pkg/authentication/user): the user every
// authenticator produces, and the well-known names and groups authentication speaks of.

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
}

export const ALL_UNAUTHENTICATED = "system:unauthenticated";
export const ALL_AUTHENTICATED = "system:authenticated";
export const ANONYMOUS = "system:anonymous";

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
