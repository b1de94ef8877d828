import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { componentName, openApiV3Document, openApiV3Index } from "./openapi.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions walk untyped documents
type Json = Record<string, any>;

describe("OpenAPI v3", () => {
  test("index names every group-version with a hash", () => {
    const index = openApiV3Index();
    assert.deepEqual(Object.keys(index.paths).sort(), [
      "api/v1",
      "apis/apps/v1",
      "apis/authentication.k8s.io/v1",
      "apis/authorization.k8s.io/v1",
      "apis/batch/v1",
      "apis/coordination.k8s.io/v1",
      "apis/discovery.k8s.io/v1",
      "apis/policy/v1",
      "apis/rbac.authorization.k8s.io/v1",
      "apis/scheduling.k8s.io/v1",
      "apis/storage.k8s.io/v1",
    ]);
    assert.match(index.paths["apis/apps/v1"]!.serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  });

  test("each object path has a patch with GVK and fieldValidation (what kubectl checks)", () => {
    const res = openApiV3Document("apis/apps/v1")!;
    const hashInIndex = openApiV3Index().paths["apis/apps/v1"]!.serverRelativeURL.split("hash=")[1];
    assert.equal(res.hash, hashInIndex);
    const doc = res.doc as Json;
    assert.equal(doc.openapi, "3.0.0");
    const p = doc.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    assert.deepEqual(p.patch["x-kubernetes-group-version-kind"], { group: "apps", version: "v1", kind: "Deployment" });
    assert.ok(p.patch.parameters.some((x: Json) => x.name === "fieldValidation" && x.in === "query"));
    assert.equal(p.patch.requestBody, undefined, "kubectl falls back to compiled-in types for patches");
    const core = openApiV3Document("/openapi/v3/api/v1")!.doc as Json;
    const ns = core.paths["/api/v1/namespaces/{name}"];
    assert.deepEqual(ns.patch["x-kubernetes-group-version-kind"], { group: "", version: "v1", kind: "Namespace" });
    assert.ok(core.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch);
    assert.ok(core.paths["/api/v1/nodes/{name}"].patch);
    assert.equal(openApiV3Document("apis/nope/v1"), undefined);
  });

  test("component schemas under upstream names", () => {
    assert.equal(componentName("apps", "v1", "Deployment"), "io.k8s.api.apps.v1.Deployment");
    assert.equal(componentName("", "v1", "Pod"), "io.k8s.api.core.v1.Pod");
    assert.equal(componentName("coordination.k8s.io", "v1", "Lease"), "io.k8s.api.coordination.v1.Lease");
    const doc = openApiV3Document("apis/apps/v1")!.doc as Json;
    const d = doc.components.schemas["io.k8s.api.apps.v1.Deployment"];
    assert.equal(d.type, "object");
    assert.deepEqual(d["x-kubernetes-group-version-kind"], [{ group: "apps", version: "v1", kind: "Deployment" }]);
    assert.equal(JSON.stringify(doc).includes('"$id"'), false);
  });
});
