import assert from "node:assert/strict";
import { test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import type { Attributes, Authorizer } from "./authorizer/authorizer.js";
import { impersonate } from "./impersonation.js";

const alice = { name: "alice", uid: "a", groups: ["system:authenticated"] };
// alice may impersonate the user bob, the group devs and the service account ns/robot.
const asked: Attributes[] = [];
const authz: Authorizer = {
  authorize(a) {
    asked.push(a);
    const ok =
      (a.resource === "users" && a.name === "bob") ||
      (a.resource === "groups" && a.name === "devs") ||
      (a.resource === "serviceaccounts" && a.namespace === "ns" && a.name === "robot");
    return { decision: ok ? "Allow" : "NoOpinion", reason: "" };
  },
};

test("no headers: the requestor itself", () => {
  assert.equal(impersonate(alice, { accept: ["*/*"] }, authz), alice);
});

test("a user with groups; system:authenticated is added", () => {
  asked.length = 0;
  const u = impersonate(alice, { "impersonate-user": ["bob"], "impersonate-group": ["devs"] }, authz);
  assert.deepEqual(u, { name: "bob", uid: "", groups: ["devs", "system:authenticated"] });
  assert.deepEqual(
    asked.map((a) => [a.verb, a.resource, a.name]),
    [
      ["impersonate", "users", "bob"],
      ["impersonate", "groups", "devs"],
    ],
  );
});

test("a service account gets its groups", () => {
  const u = impersonate(alice, { "impersonate-user": ["system:serviceaccount:ns:robot"] }, authz);
  assert.deepEqual(u.groups, ["system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"]);
});

test("refusals: 403 with upstream's message, 400 without a user", () => {
  assert.throws(
    () => impersonate(alice, { "impersonate-user": ["carol"] }, authz),
    (e: unknown) =>
      isStatusError(e) &&
      e.code === 403 &&
      e.message ===
        'users "carol" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope',
  );
  assert.throws(
    () => impersonate(alice, { "impersonate-group": ["devs"] }, authz),
    (e: unknown) => isStatusError(e) && e.code === 400 && /without impersonating a user/.test(e.message),
  );
});
