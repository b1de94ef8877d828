// Static bearer-token authentication, upstream's --token-auth-file: a CSV of
// token,user,uid[,"group1,group2"]. Lookups are one Map.get per request.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Authenticator, AuthRequest, AuthResponse } from "./authenticator.js";
import { parse as parseCsv } from "./csv.js";
import type { UserInfo } from "./user.js";

export type { UserInfo } from "./user.js";

export class TokenAuthenticator implements Authenticator {
  private readonly tokens: Map<string, UserInfo>;
  /** The first token of the file, in file order: what --write-kubeconfig uses. */
  readonly firstToken: string | undefined;

  constructor(entries: ReadonlyArray<{ token: string; user: UserInfo }>) {
    this.tokens = new Map(entries.map((e) => [e.token, e.user]));
    this.firstToken = entries[0]?.token;
  }

  /** authenticate returns the user for an Authorization header value, or undefined. */
  authenticate(authorization: string | undefined): UserInfo | undefined {
    if (!authorization) return undefined;
    // RFC 7235: the scheme is case-insensitive; upstream also trims the token.
    if (authorization.length < 8 || authorization.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
    const token = authorization.slice(7).trim();
    if (!token) return undefined;
    return this.tokens.get(token);
  }

  /** lookup: the user of a token of the file. */
  lookup(token: string): UserInfo | undefined {
    return this.tokens.get(token.trim());
  }

  /**
   * authenticateRequest: upstream's bearer-token request authenticator. No Authorization header,
   * or another scheme, is not ours; a bearer token the file does not hold is an error (401, never
   * anonymous).
   */
  authenticateRequest(req: AuthRequest): AuthResponse {
    const header = req.headers.authorization?.trim();
    if (!header) return undefined;
    const [scheme = "", token = ""] = header.split(" ", 2);
    if (scheme.toLowerCase() !== "bearer" || !token) return undefined;
    const user = this.tokens.get(token.trim());
    return user ? { user } : { error: "invalid bearer token" };
  }

  get size(): number {
    return this.tokens.size;
  }
}

/** parseTokenFile parses the CSV text; throws with the line number on a malformed line. */
export function parseTokenFile(text: string, source = "token file"): TokenAuthenticator {
  const entries: Array<{ token: string; user: UserInfo }> = [];
  const rows = parseCsv(text);
  rows.forEach((row, i) => {
    if (row.length === 0 || (row.length === 1 && row[0] === "")) return;
    if (row[0]?.startsWith("#")) return;
    const [token = "", name = "", uid = "", groups = ""] = row.map((c) => c.trim());
    if (row.length < 3 || !token || !name) {
      throw new Error(`${source}:${i + 1}: expected token,user,uid[,"groups"], got ${row.length} field(s)`);
    }
    entries.push({
      token,
      user: {
        name,
        uid,
        groups: groups
          .split(",")
          .map((g) => g.trim())
          .filter((g) => g.length > 0),
      },
    });
  });
  if (entries.length === 0) throw new Error(`${source}: no tokens`);
  return new TokenAuthenticator(entries);
}

export function loadTokenFile(path: string): TokenAuthenticator {
  return parseTokenFile(readFileSync(path, "utf8"), path);
}

/**
 * ensureTokenFile returns the path of a usable token file: the given one, or one generated at
 * `fallback` (a random admin token in system:masters) when none was given. Reused if present.
 */
export function ensureTokenFile(given: string | undefined, fallback: string): string {
  if (given) return given;
  if (!existsSync(fallback)) {
    mkdirSync(dirname(fallback), { recursive: true, mode: 0o700 });
    const token = randomBytes(24).toString("base64url");
    writeFileSync(fallback, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  }
  return fallback;
}
