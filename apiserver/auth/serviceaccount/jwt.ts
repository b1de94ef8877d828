// ServiceAccount JWTs (upstream pkg/serviceaccount/jwt.go), signed and verified with jose: the
// generator signs a token's claims with the signing key (header alg and kid), adding the first
// issuer; the authenticator is a bearer-token authenticator (auth/bearer.ts) for JWTs whose
// unverified iss is one of --service-account-issuer (anything else is not its kind of token):
// the signature must hold under a configured key (the one of the token's kid), the issuer match,
// the token's audiences meet the ones asked for (default: the API audiences), and the claims
// validate against the objects they name (claims.ts).

import { CompactSign, compactVerify, decodeProtectedHeader } from "jose";
import { intersect, type TokenAuthenticator, type TokenResult } from "../bearer.js";
import {
  type ServiceAccountTokenGetter,
  serviceAccountUser,
  type TokenClaims,
  TokenInvalidError,
  validateClaims,
} from "./claims.js";
import type { PublicKeys, SigningKey } from "./keys.js";

/** upstream TokenGenerator (jwtTokenGenerator). */
export class JWTTokenGenerator {
  constructor(
    readonly issuer: string,
    private readonly key: SigningKey,
  ) {}

  /** The compact JWS of claims, iss set to the issuer; keys in upstream's (sorted) order. */
  async generateToken(claims: TokenClaims): Promise<string> {
    const payload: Record<string, unknown> = { ...claims, iss: this.issuer };
    const sorted = Object.fromEntries(
      Object.keys(payload)
        .sort()
        .map((k) => [k, payload[k]]),
    );
    return new CompactSign(new TextEncoder().encode(JSON.stringify(sorted)))
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.keyID })
      .sign(this.key.privateKey);
  }
}

/** The iss of a compact JWS, unverified (upstream hasCorrectIssuer), or undefined if not a JWT. */
export function unverifiedIssuer(token: string): string | undefined {
  if (token.trim().startsWith("{")) return undefined;
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1] as string, "base64url").toString("utf8")) as unknown;
    const iss = (claims as { iss?: unknown } | null)?.iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

/** Go's %q of a []string: ["a" "b"]. */
const goQuoted = (list: readonly string[]) => `[${list.map((s) => JSON.stringify(s)).join(" ")}]`;

const audiencesOf = (aud: TokenClaims["aud"]): string[] =>
  aud === undefined ? [] : typeof aud === "string" ? [aud] : aud.filter((a) => typeof a === "string");

export interface ServiceAccountAuthenticatorOptions {
  /** --service-account-issuer: every one is accepted. */
  issuers: readonly string[];
  keys: PublicKeys;
  /** --api-audiences: what a request without audiences of its own asks for. */
  implicitAudiences: readonly string[];
  getter: ServiceAccountTokenGetter;
  now?: () => Date;
}

/** upstream JWTTokenAuthenticator with the ServiceAccount validator. */
export class ServiceAccountTokenAuthenticator implements TokenAuthenticator {
  private readonly issuers: ReadonlySet<string>;
  private readonly now: () => Date;

  constructor(private readonly o: ServiceAccountAuthenticatorOptions) {
    this.issuers = new Set(o.issuers);
    this.now = o.now ?? (() => new Date());
  }

  async authenticateToken(token: string, audiences: readonly string[] | undefined): Promise<TokenResult> {
    const iss = unverifiedIssuer(token);
    if (iss === undefined || !this.issuers.has(iss)) return undefined;
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined; // not a JWS after all
    }
    const keys = this.o.keys.get(kid);
    if (keys.length === 0) return { error: "invalid signature, no keys found" };
    let payload: Uint8Array | undefined;
    for (const k of keys) {
      try {
        payload = (await compactVerify(token, k.key, { algorithms: [k.alg] })).payload;
        break;
      } catch {
        // the next key, if any (rotation)
      }
    }
    if (!payload) return { error: "go-jose/go-jose: error in cryptographic primitive" };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(new TextDecoder().decode(payload)) as TokenClaims;
    } catch {
      return { error: "service account token claims could not be validated due to unexpected private claim" };
    }
    // The issuer again, now that the payload is verified.
    if (!claims.iss || !this.issuers.has(claims.iss)) return { error: `token issuer "${claims.iss ?? ""}" is invalid` };

    const implicit = this.o.implicitAudiences;
    let tokenAudiences = audiencesOf(claims.aud);
    if (tokenAudiences.length === 0) tokenAudiences = [...implicit]; // legacy tokens: the API's only
    const requested = audiences ?? implicit;
    const auds = intersect(tokenAudiences, requested);
    if (auds.length === 0 && implicit.length > 0) {
      return {
        error: `token audiences ${goQuoted(tokenAudiences)} is invalid for the target audiences ${goQuoted(requested)}`,
      };
    }
    try {
      const info = await validateClaims(claims, this.o.getter, this.now());
      return { user: serviceAccountUser(info), audiences: auds };
    } catch (err) {
      if (err instanceof TokenInvalidError) return { error: err.message };
      throw err;
    }
  }
}
