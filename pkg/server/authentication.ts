// Request authentication for kubeling's servers (upstream k8s.io/apiserver/pkg/authentication):
// the shapes every authenticator shares (the API server's apiserver/auth/ re-exports them),
// and the delegated authenticator of the servers that are not the API server — the kubelet's
// 10250, the scheduler's and controller-manager's secure ports (upstream
// authenticatorfactory.DelegatingAuthenticatorConfig): a client certificate signed by
// --client-ca-file, else a bearer token the API server vouches for through a TokenReview
// (webhook token authentication, answers cached for --authentication-token-webhook-cache-ttl),
// else anonymous when allowed. Every user but anonymous is in system:authenticated.

import { createHash } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { TOKENREVIEWS } from "../api/resources.js";
import type { TokenReview } from "../api/types/authentication.js";
import type { Clock } from "../runtime/clock.js";
import { TtlCache } from "./ttl-cache.js";

/** upstream user.Info. */
export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
  /** Extra attributes (impersonation's Impersonate-Extra-*, a token's claims). */
  extra?: Record<string, string[]>;
}

export const ANONYMOUS = "system:anonymous";
export const ALL_UNAUTHENTICATED = "system:unauthenticated";
export const ALL_AUTHENTICATED = "system:authenticated";

/** What authenticators look at: the headers and the connection (its TLS peer certificate). */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  socket: unknown;
}

/** A user, nothing (not this authenticator's kind of credential) or an error (its kind, but bad). */
export type AuthResponse = { user: UserInfo } | { error: string } | undefined;

export interface RequestAuthenticator {
  authenticateRequest(req: AuthRequest): AuthResponse | Promise<AuthResponse>;
}

/** The anonymous user (upstream's anonymous authenticator). */
export function anonymousUser(): UserInfo {
  return { name: ANONYMOUS, uid: "", groups: [ALL_UNAUTHENTICATED] };
}

/** upstream AuthenticatedGroupAdder. */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  if (u.name === ANONYMOUS) return u;
  if (u.groups.includes(ALL_AUTHENTICATED) || u.groups.includes(ALL_UNAUTHENTICATED)) return u;
  return { ...u, groups: [...u.groups, ALL_AUTHENTICATED] };
}

/** The token of `Authorization: Bearer <token>` (upstream bearertoken's parse), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const header = authorization?.trim();
  if (!header) return undefined;
  const parts = header.split(" ");
  if (parts.length < 2 || parts[0]?.toLowerCase() !== "bearer") return undefined;
  const token = parts[1] ?? "";
  return token.length > 0 ? token : undefined;
}

/** The one call TokenReviewAuthenticator makes (an ApiClient has it). */
export interface TokenReviewClient {
  create(r: typeof TOKENREVIEWS, ns: undefined, obj: TokenReview): Promise<TokenReview>;
}

/** upstream's kubelet default (--authentication-token-webhook-cache-ttl=2m). */
export const KUBELET_TOKEN_CACHE_TTL_MS = 120_000;
/** upstream DelegatingAuthenticationOptions' default (10s): the scheduler, the controller-manager. */
export const DELEGATED_TOKEN_CACHE_TTL_MS = 10_000;

/**
 * upstream webhook token authenticator behind its token cache: the API server answers a
 * TokenReview; an authenticated token is the review's user, an unauthenticated one is the
 * review's error (or nothing, when it gave none). Both answers are kept for ttlMs, keyed by a
 * hash of the token (the token itself is never kept); a failed review is not kept.
 */
export class TokenReviewAuthenticator implements RequestAuthenticator {
  readonly #client: TokenReviewClient;
  readonly #ttlMs: number;
  readonly #cache: TtlCache<AuthResponse | null>;

  constructor(client: TokenReviewClient, o: { ttlMs: number; clock?: Clock; maxEntries?: number }) {
    this.#client = client;
    this.#ttlMs = o.ttlMs;
    this.#cache = new TtlCache({
      ...(o.clock ? { clock: o.clock } : {}),
      ...(o.maxEntries ? { maxEntries: o.maxEntries } : {}),
    });
  }

  async authenticateRequest(req: AuthRequest): Promise<AuthResponse> {
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return undefined;
    return this.authenticateToken(token);
  }

  async authenticateToken(token: string): Promise<AuthResponse> {
    const key = createHash("sha256").update(token).digest("base64url");
    try {
      const answer = await this.#cache.getOrLoad(
        key,
        () => this.#review(token),
        () => this.#ttlMs,
      );
      return answer ?? undefined;
    } catch (err) {
      return { error: `error verifying token: ${(err as Error).message}` };
    }
  }

  async #review(token: string): Promise<AuthResponse | null> {
    const review = await this.#client.create(TOKENREVIEWS, undefined, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      metadata: {},
      spec: { token },
    });
    const s = review.status ?? {};
    if (!s.authenticated) return s.error ? { error: s.error } : null;
    const u = s.user ?? {};
    const user: UserInfo = { name: u.username ?? "", uid: u.uid ?? "", groups: u.groups ?? [] };
    if (u.extra && Object.keys(u.extra).length > 0) user.extra = u.extra;
    return { user };
  }
}

/**
 * upstream DelegatingAuthenticatorConfig.New: the authenticators in order (x509, then tokens);
 * the first user wins, errors count only when nobody answered, and anonymous comes last, only
 * when allowed and nobody answered with an error (a bad certificate or token is a 401).
 */
export class DelegatingAuthenticator implements RequestAuthenticator {
  readonly #authenticators: readonly RequestAuthenticator[];
  readonly #anonymous: boolean;

  constructor(authenticators: readonly (RequestAuthenticator | undefined)[], o: { anonymous: boolean }) {
    this.#authenticators = authenticators.filter((a): a is RequestAuthenticator => a !== undefined);
    this.#anonymous = o.anonymous;
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
