import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_RESOURCES } from "#pkg/api/resources.js";
import { PathResolver } from "./path.js";

const r = new PathResolver(BUILTIN_RESOURCES);

function res(path: string) {
  const t = r.resolve(path);
  assert.equal(t.type, "resource", `${path} -> ${t.type}`);
  if (t.type !== "resource") throw new Error("unreachable");
  return { resource: t.resource.resource, ns: t.namespace, name: t.name, sub: t.subresource, watch: t.watchPath };
}

describe("PathResolver", () => {
  test("core and group collections, objects and subresources", () => {
    assert.deepEqual(res("/api/v1/pods"), {
      resource: "pods",
      ns: undefined,
      name: undefined,
      sub: undefined,
      watch: false,
    });
    assert.deepEqual(res("/api/v1/namespaces/default/pods"), {
      resource: "pods",
      ns: "default",
      name: undefined,
      sub: undefined,
      watch: false,
    });
    assert.deepEqual(res("/api/v1/namespaces/default/pods/web/status"), {
      resource: "pods",
      ns: "default",
      name: "web",
      sub: "status",
      watch: false,
    });
    assert.deepEqual(res("/apis/apps/v1/namespaces/ns1/deployments/d/scale"), {
      resource: "deployments",
      ns: "ns1",
      name: "d",
      sub: "scale",
      watch: false,
    });
    assert.deepEqual(res("/apis/apps/v1/deployments/"), {
      resource: "deployments",
      ns: undefined,
      name: undefined,
      sub: undefined,
      watch: false,
    });
  });

  test("namespaces: the object, its status and finalize, and the collection", () => {
    assert.deepEqual(res("/api/v1/namespaces"), {
      resource: "namespaces",
      ns: undefined,
      name: undefined,
      sub: undefined,
      watch: false,
    });
    assert.deepEqual(res("/api/v1/namespaces/kube-system"), {
      resource: "namespaces",
      ns: undefined,
      name: "kube-system",
      sub: undefined,
      watch: false,
    });
    assert.deepEqual(res("/api/v1/namespaces/x/status"), {
      resource: "namespaces",
      ns: undefined,
      name: "x",
      sub: "status",
      watch: false,
    });
    assert.deepEqual(res("/api/v1/namespaces/x/finalize"), {
      resource: "namespaces",
      ns: undefined,
      name: "x",
      sub: "finalize",
      watch: false,
    });
  });

  test("legacy /watch/ prefix and percent-encoded names", () => {
    assert.deepEqual(res("/api/v1/watch/namespaces/default/pods"), {
      resource: "pods",
      ns: "default",
      name: undefined,
      sub: undefined,
      watch: true,
    });
    assert.equal(res("/api/v1/namespaces/default/configmaps/a%2Eb").name, "a.b");
  });

  test("discovery targets and misses", () => {
    assert.deepEqual(r.resolve("/api/v1"), { type: "groupVersion", group: "", version: "v1" });
    assert.deepEqual(r.resolve("/apis/apps"), { type: "group", group: "apps" });
    for (const miss of [
      "/api/v2/pods",
      "/apis/nope/v1/things",
      "/api/v1/widgets",
      "/api/v1/pods/x", // namespaced object outside a namespace
      "/api/v1/namespaces/default/nodes", // cluster-scoped kind inside a namespace
      "/api/v1/namespaces/default/pods/x/nope",
      "/api/v1/namespaces/default/pods/x/status/extra",
      "/apis/apps/v1/namespaces/default/deployments/x/binding",
      "/other",
    ]) {
      assert.equal(r.resolve(miss).type, "notFound", miss);
    }
  });
});
