import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { forbidden } from "./forbidden.js";
import { validateModes } from "./modes.js";
import { attributesOf, requestInfo } from "./request-info.js";
import { alwaysAllow, alwaysDeny, privilegedGroups, unionAuthorizer } from "./union.js";

const info = (method: string, url: string) => {
  const [path = "", qs = ""] = url.split("?");
  return requestInfo(method, path, new URLSearchParams(qs));
};
const user = { name: "jane", uid: "1", groups: ["system:authenticated"] };

describe("requestInfo (upstream RequestInfoFactory)", () => {
  const cases: Array<[string, string, Partial<ReturnType<typeof info>>]> = [
    [
      "GET",
      "/api/v1/namespaces/ns/pods",
      { verb: "list", resource: "pods", namespace: "ns", apiGroup: "", apiVersion: "v1" },
    ],
    ["GET", "/api/v1/namespaces/ns/pods?watch=true", { verb: "watch", resource: "pods" }],
    ["GET", "/api/v1/namespaces/ns/pods?watch=false", { verb: "list" }],
    ["GET", "/api/v1/watch/namespaces/ns/pods", { verb: "watch", resource: "pods", namespace: "ns" }],
    ["GET", "/api/v1/pods", { verb: "list", resource: "pods", namespace: "" }],
    ["GET", "/api/v1/namespaces/ns/pods/p", { verb: "get", name: "p" }],
    ["GET", "/api/v1/namespaces/ns/pods/p/log", { verb: "get", name: "p", subresource: "log" }],
    ["POST", "/api/v1/namespaces/ns/pods/p/exec", { verb: "create", subresource: "exec" }],
    ["DELETE", "/api/v1/namespaces/ns/pods", { verb: "deletecollection" }],
    ["DELETE", "/api/v1/namespaces/ns/pods/p", { verb: "delete", name: "p" }],
    [
      "PATCH",
      "/apis/apps/v1/namespaces/ns/deployments/d/scale",
      { verb: "patch", apiGroup: "apps", subresource: "scale" },
    ],
    [
      "PUT",
      "/api/v1/namespaces/ns/finalize",
      { verb: "update", resource: "namespaces", name: "ns", subresource: "finalize" },
    ],
    ["GET", "/api/v1/namespaces/ns", { verb: "get", resource: "namespaces", name: "ns" }],
    ["POST", "/api/v1/namespaces", { verb: "create", resource: "namespaces", name: "" }],
    // A list by exact name is authorized as that object (kubelets' single-object watches).
    ["GET", "/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ds1&watch=1", { verb: "watch", name: "s1" }],
    ["GET", "/api/v1/nodes?fieldSelector=metadata.name!%3Dx", { verb: "list", name: "" }],
    ["GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Anode", { name: "system:node" }],
  ];
  for (const [method, url, want] of cases) {
    test(`${method} ${url}`, () => {
      const got = info(method, url);
      assert.equal(got.isResourceRequest, true);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof typeof got], v, k);
    });
  }

  test("non-resource paths: the lower-case method, the path", () => {
    for (const p of [
      "/healthz",
      "/version",
      "/api",
      "/api/v1",
      "/apis",
      "/apis/apps",
      "/apis/apps/v1",
      "/metrics",
      "/",
    ]) {
      const got = info("GET", p);
      assert.equal(got.isResourceRequest, false, p);
      assert.equal(got.verb, "get");
      assert.equal(got.path, p);
    }
    assert.equal(info("POST", "/healthz").verb, "post");
  });
});

describe("the forbidden message", () => {
  test("namespaced, cluster-scoped, subresources, named objects, non-resource paths", () => {
    const denied = (method: string, url: string, reason = "") =>
      forbidden(attributesOf(user, info(method, url)), reason);
    assert.equal(
      denied("GET", "/api/v1/namespaces/y/pods").message,
      'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "y"',
    );
    assert.equal(
      denied("GET", "/api/v1/nodes/n1").message,
      'nodes "n1" is forbidden: User "jane" cannot get resource "nodes" in API group "" at the cluster scope',
    );
    assert.equal(
      denied("GET", "/api/v1/namespaces/y/pods/p/log").message,
      'pods "p" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "y"',
    );
    assert.equal(
      denied(
        "DELETE",
        "/apis/apps/v1/namespaces/y/deployments/d",
        'RBAC: clusterrole.rbac.authorization.k8s.io "x" not found',
      ).message,
      'deployments.apps "d" is forbidden: User "jane" cannot delete resource "deployments" in API group "apps" in the namespace "y": RBAC: clusterrole.rbac.authorization.k8s.io "x" not found',
    );
    const nonResource = denied("GET", "/metrics");
    assert.equal(nonResource.message, 'forbidden: User "jane" cannot get path "/metrics"');
    assert.equal(nonResource.code, 403);
    assert.equal(nonResource.reason, "Forbidden");
    assert.deepEqual(denied("GET", "/api/v1/namespaces/y/pods/p").details, { name: "p", kind: "pods" });
  });
});

describe("the authorizer chain", () => {
  const a = attributesOf(user, info("GET", "/api/v1/pods"));
  test("first Allow or Deny wins; reasons of NoOpinions are joined", () => {
    const said = (reason: string) => ({ authorize: () => ({ decision: "NoOpinion" as const, reason }) });
    assert.equal(unionAuthorizer([said("a"), alwaysAllow]).authorize(a).decision, "Allow");
    assert.deepEqual(unionAuthorizer([said("a"), said("b")]).authorize(a), { decision: "NoOpinion", reason: "a\nb" });
    // upstream's AlwaysDeny has no opinion (a reason only): a later mode may still allow.
    assert.deepEqual(unionAuthorizer([alwaysDeny]).authorize(a), {
      decision: "NoOpinion",
      reason: "Everything is forbidden.",
    });
  });
  test("system:masters is allowed, others get no opinion", () => {
    const masters = privilegedGroups("system:masters");
    assert.equal(masters.authorize({ ...a, user: { ...user, groups: ["system:masters"] } }).decision, "Allow");
    assert.equal(masters.authorize(a).decision, "NoOpinion");
  });
  test("--authorization-mode validation", () => {
    assert.deepEqual(validateModes(["Node", "RBAC"]), []);
    assert.deepEqual(validateModes(["ABAC"]), ['authorization-mode "ABAC" is not a valid mode']);
    assert.deepEqual(validateModes(["RBAC", "RBAC"]), [
      'authorization-mode "RBAC,RBAC" has mode specified more than once',
    ]);
    assert.deepEqual(validateModes([]), ["at least one authorization-mode must be passed"]);
  });
});
