import assert from "node:assert/strict";
import { test } from "node:test";
import { anonymousEnabled, UnionAuthenticator } from "./authenticator.js";
import { parseTokenFile } from "./tokens.js";

test("anonymous: only when nobody answered, never after an error", async () => {
  const union = new UnionAuthenticator([parseTokenFile("tok,bob,u1\n").requestAuthenticator()], { anonymous: true });
  assert.deepEqual(await union.authenticateRequest({ headers: {}, socket: null }), {
    user: { name: "system:anonymous", uid: "", groups: ["system:unauthenticated"] },
  });
  assert.deepEqual(await union.authenticateRequest({ headers: { authorization: "Bearer x" }, socket: null }), {
    error: "invalid bearer token",
  });
  assert.deepEqual(await union.authenticateRequest({ headers: { authorization: "Basic Ym9iOng=" }, socket: null }), {
    user: { name: "system:anonymous", uid: "", groups: ["system:unauthenticated"] },
  });
});

test("anonymousEnabled: --anonymous-auth takes effect only with an authorizer other than AlwaysAllow", () => {
  assert.equal(anonymousEnabled(true, ["AlwaysAllow"]), false);
  assert.equal(anonymousEnabled(true, ["Node", "RBAC"]), true);
  assert.equal(anonymousEnabled(true, ["AlwaysAllow", "RBAC"]), true);
  assert.equal(anonymousEnabled(false, ["RBAC"]), false);
});

test("the union: first user wins, system:authenticated added once, errors only when nobody answered", async () => {
  const a = parseTokenFile('t1,alice,u1,"dev,system:authenticated"\n').requestAuthenticator();
  const b = parseTokenFile("t2,bob,u2\n").requestAuthenticator();
  const union = new UnionAuthenticator([a, b], { anonymous: false });
  assert.deepEqual(await union.authenticateRequest({ headers: { authorization: "Bearer t1" }, socket: null }), {
    user: { name: "alice", uid: "u1", groups: ["dev", "system:authenticated"] },
  });
  // a answers an error (unknown token), b knows it: b's user.
  assert.deepEqual(await union.authenticateRequest({ headers: { authorization: "Bearer t2" }, socket: null }), {
    user: { name: "bob", uid: "u2", groups: ["system:authenticated"] },
  });
  assert.deepEqual(await union.authenticateRequest({ headers: { authorization: "Bearer t3" }, socket: null }), {
    error: "invalid bearer token, invalid bearer token",
  });
  assert.equal(await union.authenticateRequest({ headers: {}, socket: null }), undefined);
});
