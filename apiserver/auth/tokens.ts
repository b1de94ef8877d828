// Static bearer-token authentication, upstream's --token-auth-file: a CSV of
// token,user,uid[,"group1,group2"]. Lookups are one Map.get per request.

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Authenticator } from "./authenticator.js";
import { audienceAgnostic, BearerAuthenticator, type TokenAuthenticator } from "./bearer.js";
import { parse as parseCsv } from "./csv.js";
import type { UserInfo } from "./user.js";

export type { UserInfo } from "./user.js";

/**
 * The users of a token file. Requests reach it only through bearer.ts (the header's parse, the
 * 401 for an unknown token, audiences), as every other token authenticator does.
 */
export class TokenFile {
  private readonly tokens: Map<string, UserInfo>;
  /** The first token of the file, in file order: what --write-kubeconfig uses. */
  readonly firstToken: string | undefined;

  constructor(entries: ReadonlyArray<{ token: string; user: UserInfo }>) {
    this.tokens = new Map(entries.map((e) => [e.token, e.user]));
    this.firstToken = entries[0]?.token;
  }

  /** lookup: the user of a token of the file. */
  lookup(token: string): UserInfo | undefined {
    return this.tokens.get(token.trim());
  }

  /** As a token authenticator: audience-agnostic (valid for the API audiences only), as upstream's. */
  tokenAuthenticator(apiAudiences: readonly string[]): TokenAuthenticator {
    return audienceAgnostic(apiAudiences, (t) => this.lookup(t));
  }

  /** A request authenticator over the file alone (tests, and servers with no other tokens). */
  requestAuthenticator(apiAudiences: readonly string[] = []): Authenticator {
    return new BearerAuthenticator(this.tokenAuthenticator(apiAudiences), apiAudiences);
  }

  get size(): number {
    return this.tokens.size;
  }
}

/** parseTokenFile parses the CSV text; throws with the line number on a malformed line. */
export function parseTokenFile(text: string, source = "token file"): TokenFile {
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
  return new TokenFile(entries);
}

export function loadTokenFile(path: string): TokenFile {
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
