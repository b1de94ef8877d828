// Bearer-token authentication as upstream's k8s.io/apiserver/pkg/authentication/request/bearertoken
// and authenticator.Audiences: a token authenticator answers a user and the audiences it found
// the token valid for, nothing (not its kind of token), or an error. The request authenticator
// reads `Authorization: Bearer <token>` and asks the union with the API audiences (--api-audiences);
// TokenReview asks the same union with the review's audiences.

import { bearerToken } from "#pkg/server/authentication.js";
import type { Authenticator, AuthRequest, AuthResponse } from "./authenticator.js";
import type { UserInfo } from "./user.js";

export interface TokenResponse {
  user: UserInfo;
  /** The audiences the token was found valid for (upstream Response.Audiences). */
  audiences: string[];
}

export type TokenResult = TokenResponse | { error: string } | undefined;

export interface TokenAuthenticator {
  /**
   * audiences: the audiences the caller wants the token valid for; undefined: no audience check
   * (upstream: no audiences in the request context).
   */
  authenticateToken(token: string, audiences: readonly string[] | undefined): TokenResult | Promise<TokenResult>;
}

/** upstream Audiences.Intersect. */
export function intersect(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((x) => b.includes(x));
}

/**
 * upstream WrapAudienceAgnosticToken: a token that knows no audience (the token file) is valid for
 * the API audiences only: asked for others it is not ours, and it answers the ones asked for.
 */
export function audienceAgnostic(
  implicit: readonly string[],
  check: (token: string) => UserInfo | undefined,
): TokenAuthenticator {
  return {
    authenticateToken(token, audiences) {
      if (audiences === undefined) {
        const user = check(token);
        return user ? { user, audiences: [] } : undefined;
      }
      const auds = intersect(implicit, audiences);
      if (auds.length === 0) return undefined;
      const user = check(token);
      return user ? { user, audiences: auds } : undefined;
    },
  };
}

/** upstream union of token authenticators: the first user wins, errors count only when nobody answered. */
export class UnionTokenAuthenticator implements TokenAuthenticator {
  constructor(private readonly authenticators: readonly TokenAuthenticator[]) {}

  async authenticateToken(token: string, audiences: readonly string[] | undefined): Promise<TokenResult> {
    const errors: string[] = [];
    for (const a of this.authenticators) {
      const r = await a.authenticateToken(token, audiences);
      if (r === undefined) continue;
      if ("user" in r) return r;
      errors.push(r.error);
    }
    return errors.length > 0 ? { error: errors.join(", ") } : undefined;
  }
}

/** The token of `Authorization: Bearer <token>` (upstream's parse; shared with the delegated servers). */
export { bearerToken };

/**
 * upstream bearertoken.Authenticator: no bearer header is not ours; a token nobody knows is the
 * error "invalid bearer token" (a 401, never anonymous).
 */
export class BearerAuthenticator implements Authenticator {
  constructor(
    private readonly tokens: TokenAuthenticator,
    /** --api-audiences; empty: no audience check (upstream: no audiences in the context). */
    private readonly apiAudiences: readonly string[],
  ) {}

  async authenticateRequest(req: AuthRequest): Promise<AuthResponse> {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return undefined;
    const r = await this.tokens.authenticateToken(token, this.apiAudiences.length > 0 ? this.apiAudiences : undefined);
    if (r === undefined) return { error: "invalid bearer token" };
    return "user" in r ? { user: r.user } : r;
  }
}
