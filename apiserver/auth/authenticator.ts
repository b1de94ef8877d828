// Request authentication as upstream's k8s.io/apiserver/pkg/authentication: each authenticator
// answers a user, nothing (not its kind of credential: try the next) or an error (its kind of
// credential, but bad). The union tries them in order (x509, then bearer tokens) and the first
// user wins; errors count only when nobody answered. Anonymous comes last and only when nobody
// answered with an error: a wrong certificate or an unknown token is a 401, not anonymous.
// Every authenticated user but anonymous is also in system:authenticated.

import type { AuthRequest, AuthResponse } from "#pkg/server/authentication.js";
import { anonymousUser, withAuthenticatedGroup } from "./user.js";

export type { AuthRequest, AuthResponse, UserInfo } from "#pkg/server/authentication.js";

export interface Authenticator {
  /** Async for the authenticators that look objects up (ServiceAccount tokens). */
  authenticateRequest(req: AuthRequest): AuthResponse | Promise<AuthResponse>;
}

export class UnionAuthenticator implements Authenticator {
  readonly #authenticators: readonly Authenticator[];
  readonly #anonymous: boolean;

  constructor(authenticators: readonly Authenticator[], o: { anonymous: boolean }) {
    this.#authenticators = authenticators;
    this.#anonymous = o.anonymous;
  }

  get anonymous(): boolean {
    return this.#anonymous;
  }

  async authenticateRequest(req: AuthRequest): Promise<AuthResponse> {
    const errors: string[] = [];
    for (const a of this.#authenticators) {
      const r = await a.authenticateRequest(req);
      if (r === undefined) continue;
      if ("user" in r) return { user: withAuthenticatedGroup(r.user) };
      errors.push(r.error);
    }
    if (errors.length > 0) return { error: errors.join(", ") };
    return this.#anonymous ? { user: anonymousUser() } : undefined;
  }
}

/**
 * anonymousEnabled decides whether --anonymous-auth takes effect. Upstream enables anonymous
 * requests by default and relies on the authorizer to confine them (RBAC grants
 * system:unauthenticated only /healthz, /livez, /readyz and /version). Under AlwaysAllow an
 * anonymous request could do anything, so anonymous stays off unless some authorizer other than
 * AlwaysAllow is configured.
 */
export function anonymousEnabled(anonymousAuth: boolean, authorizationModes: readonly string[]): boolean {
  return anonymousAuth && authorizationModes.some((m) => m !== "AlwaysAllow");
}
