import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTokenFile } from "./tokens.js";

test("token file: upstream CSV with quoted groups", async () => {
  const a = parseTokenFile('t1,alice,u1,"system:masters,dev"\n# comment\n\nt2,bob,u2\n');
  assert.equal(a.size, 2);
  assert.equal(a.firstToken, "t1");
  const user = async (authorization: string | undefined) => {
    const r = await a.requestAuthenticator().authenticateRequest({ headers: { authorization }, socket: null });
    return r && "user" in r ? r.user : undefined;
  };
  assert.deepEqual(await user("Bearer t1"), { name: "alice", uid: "u1", groups: ["system:masters", "dev"] });
  assert.deepEqual(await user("bearer t2"), { name: "bob", uid: "u2", groups: [] });
  assert.equal(await user("Bearer nope"), undefined);
  assert.equal(await user("Basic dDE="), undefined);
  assert.equal(await user(undefined), undefined);
  assert.throws(() => parseTokenFile("onlytoken\n"), /expected token,user,uid/);
  assert.throws(() => parseTokenFile(""), /no tokens/);
});
