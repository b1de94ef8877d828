import assert from "node:assert/strict";
import { test } from "node:test";
import { parseTokenFile } from "./tokens.js";

test("token file: upstream CSV with quoted groups", () => {
  const a = parseTokenFile('t1,alice,u1,"system:masters,dev"\n# comment\n\nt2,bob,u2\n');
  assert.equal(a.size, 2);
  assert.equal(a.firstToken, "t1");
  assert.deepEqual(a.authenticate("Bearer t1"), { name: "alice", uid: "u1", groups: ["system:masters", "dev"] });
  assert.deepEqual(a.authenticate("bearer t2"), { name: "bob", uid: "u2", groups: [] });
  assert.equal(a.authenticate("Bearer nope"), undefined);
  assert.equal(a.authenticate("Basic dDE="), undefined);
  assert.equal(a.authenticate(undefined), undefined);
  assert.throws(() => parseTokenFile("onlytoken\n"), /expected token,user,uid/);
  assert.throws(() => parseTokenFile(""), /no tokens/);
});
