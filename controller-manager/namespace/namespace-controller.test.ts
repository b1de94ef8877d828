// The pure parts of the Namespace controller. The sync itself runs against a real API server in
// test/integration/namespace-controller.test.ts: FakeClient has no discovery or deletecollection.

import assert from "node:assert/strict";
import { test } from "node:test";
import { type DeletionResult, deletableResources, deletionConditions } from "./namespace-controller.js";

test("deletableResources: namespaced top-level resources with deletecollection, or delete and list", () => {
  const rs = deletableResources([
    {
      group: "",
      version: "v1",
      resources: [
        { name: "pods", namespaced: true, kind: "Pod", verbs: ["create", "delete", "deletecollection", "list"] },
        { name: "pods/log", namespaced: true, kind: "Pod", verbs: ["get"] },
        { name: "bindings", namespaced: true, kind: "Binding", verbs: ["create"] },
        { name: "services", namespaced: true, kind: "Service", verbs: ["delete", "list", "get"] },
        { name: "namespaces", namespaced: false, kind: "Namespace", verbs: ["delete", "list"] },
      ],
    },
    {
      group: "apps",
      version: "v1",
      resources: [{ name: "deployments", namespaced: true, kind: "Deployment", verbs: ["deletecollection", "list"] }],
    },
  ]);
  assert.deepEqual(
    rs.map((r) => `${r.group}/${r.version}/${r.resource}`),
    ["/v1/pods", "/v1/services", "apps/v1/deployments"],
  );
  assert.equal(rs[2]?.kind, "Deployment");
});

test("deletionConditions: all False when the namespace is empty, upstream's reasons when not", () => {
  const empty: DeletionResult = { failures: new Map(), remaining: new Map(), finalizers: new Map() };
  const ok = deletionConditions(empty);
  assert.equal(ok.length, 5);
  assert.ok(ok.every((c) => c.status === "False"));
  assert.equal(ok.find((c) => c.type === "NamespaceContentRemaining")?.reason, "ContentRemoved");

  const bad = deletionConditions({
    failures: new Map([["secrets", "boom"]]),
    remaining: new Map([["configmaps", 2]]),
    finalizers: new Map([["example.com/x", 1]]),
  });
  const by = (t: string) => bad.find((c) => c.type === t);
  assert.equal(by("NamespaceDeletionContentFailure")?.reason, "ContentDeletionFailed");
  assert.match(by("NamespaceDeletionContentFailure")?.message ?? "", /1 remaining: secrets: boom/);
  assert.equal(
    by("NamespaceContentRemaining")?.message,
    "Some resources are remaining: configmaps has 2 resource instances",
  );
  assert.equal(by("NamespaceFinalizersRemaining")?.reason, "SomeFinalizersRemain");
  assert.equal(by("NamespaceDeletionDiscoveryFailure")?.status, "False");
  assert.equal(
    deletionConditions({ ...empty, discoveryError: "x" }).find((c) => c.type === "NamespaceDeletionDiscoveryFailure")
      ?.reason,
    "DiscoveryFailed",
  );
});
