import assert from "node:assert/strict";
import { test } from "node:test";
import { audienceAgnostic, BearerAuthenticator, bearerToken, UnionTokenAuthenticator } from "./bearer.js";
import type { UserInfo } from "./user.js";

const bob: UserInfo = { name: "bob", uid: "u1", groups: [] };
const file = (token: string) => (token === "t1" ? bob : undefined);

test("bearerToken: upstream's parse of the Authorization header", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("  bearer abc  "), "abc");
  assert.equal(bearerToken("Bearer abc def"), "abc");
  assert.equal(bearerToken("Bearer "), undefined);
  assert.equal(bearerToken("Basic Ym9iOng="), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test("audienceAgnostic: valid for the API audiences only, answering those asked for", () => {
  const a = audienceAgnostic(["api", "other"], file);
  assert.deepEqual(a.authenticateToken("t1", undefined), { user: bob, audiences: [] });
  assert.deepEqual(a.authenticateToken("t1", ["api", "x"]), { user: bob, audiences: ["api"] });
  assert.equal(a.authenticateToken("t1", ["x"]), undefined);
  assert.equal(a.authenticateToken("nope", ["api"]), undefined);
  assert.equal(audienceAgnostic([], file).authenticateToken("t1", ["api"]), undefined);
});

test("BearerAuthenticator: no bearer header is not ours, an unknown token is the 401 error", async () => {
  const errs = { authenticateToken: () => ({ error: "token expired" }) };
  const b = new BearerAuthenticator(new UnionTokenAuthenticator([errs, audienceAgnostic(["api"], file)]), ["api"]);
  assert.equal(await b.authenticateRequest({ headers: {}, socket: null }), undefined);
  assert.deepEqual(await b.authenticateRequest({ headers: { authorization: "Bearer t1" }, socket: null }), {
    user: bob,
  });
  // Someone answered an error and nobody a user: the error.
  assert.deepEqual(await b.authenticateRequest({ headers: { authorization: "Bearer t2" }, socket: null }), {
    error: "token expired",
  });
  const only = new BearerAuthenticator(new UnionTokenAuthenticator([audienceAgnostic([], file)]), []);
  assert.deepEqual(await only.authenticateRequest({ headers: { authorization: "Bearer t2" }, socket: null }), {
    error: "invalid bearer token",
  });
});
