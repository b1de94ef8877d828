// Discovery, OpenAPI and Table answers of a real kubeling-apiserver, with the exact shapes and
// Content-Types kubectl depends on (KUBECTL_WIRE 1.7-1.9).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decode } from "#pkg/api/protobuf/codec.js";
import { TABLE_ACCEPT } from "#pkg/api/table.js";
import { decodeDocument } from "../../apiserver/openapi-v2-proto.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";

let srv: TestApiServer;

const AGG_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

before(async () => {
  srv = await startApiServer();
});

after(async () => {
  await closeRawAgents();
  await srv?.stop();
});

describe("aggregated discovery", () => {
  test("/api with kubectl 1.30+ Accept answers v2 with the parameterised Content-Type", async () => {
    const a = await raw(srv, "GET", "/api?timeout=32s", { headers: { accept: AGG_ACCEPT } });
    assert.equal(a.status, 200);
    assert.equal(a.headers["content-type"], "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    assert.equal(a.json.kind, "APIGroupDiscoveryList");
    assert.equal(a.json.apiVersion, "apidiscovery.k8s.io/v2");
    assert.equal(a.json.items.length, 1);
    assert.equal(a.json.items[0].metadata.name, "");
    const v1 = a.json.items[0].versions[0];
    assert.equal(v1.version, "v1");
    const pods = v1.resources.find((r: { resource: string }) => r.resource === "pods");
    assert.deepEqual(pods.responseKind, { group: "", version: "v1", kind: "Pod" });
    assert.equal(pods.scope, "Namespaced");
    assert.deepEqual(pods.shortNames, ["po"]);
    assert.deepEqual(pods.categories, ["all"]);
    const ns = v1.resources.find((r: { resource: string }) => r.resource === "namespaces");
    assert.equal(ns.scope, "Cluster");
  });

  test("/apis with a v2beta1-only Accept (kubectl <= 1.29) answers the legacy APIGroupList", async () => {
    // apidiscovery.k8s.io/v2beta1 is off by default since upstream 1.33.
    const a = await raw(srv, "GET", "/apis", {
      headers: { accept: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json" },
    });
    assert.equal(a.status, 200);
    assert.equal(a.headers["content-type"], "application/json");
    assert.equal(a.json.kind, "APIGroupList");
    const apps = a.json.groups.find((g: { name: string }) => g.name === "apps");
    assert.deepEqual(apps.preferredVersion, { groupVersion: "apps/v1", version: "v1" });
    const core = await raw(srv, "GET", "/api", {
      headers: { accept: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json" },
    });
    assert.equal(core.json.kind, "APIVersions");
  });
});

describe("legacy discovery", () => {
  test("/api and /apis answer the legacy documents to a plain JSON Accept", async () => {
    const api = await raw(srv, "GET", "/api", { headers: { accept: "application/json, */*" } });
    assert.equal(api.status, 200);
    assert.match(String(api.headers["content-type"]), /^application\/json$/);
    assert.deepEqual(api.json.versions, ["v1"]);
    const apis = await raw(srv, "GET", "/apis", { headers: { accept: "application/json" } });
    assert.equal(apis.status, 200);
    const names = apis.json.groups.map((g: { name: string }) => g.name);
    for (const g of ["apps", "batch", "coordination.k8s.io"]) assert.ok(names.includes(g), `${g} in ${names}`);
    const apps = apis.json.groups.find((g: { name: string }) => g.name === "apps");
    assert.deepEqual(apps.preferredVersion, { groupVersion: "apps/v1", version: "v1" });
  });

  test("group-version resource lists and the group document", async () => {
    const core = await raw(srv, "GET", "/api/v1");
    assert.equal(core.status, 200);
    assert.equal(core.json.groupVersion, "v1");
    const names = core.json.resources.map((r: { name: string }) => r.name);
    for (const n of ["pods", "pods/status", "pods/binding", "namespaces", "services", "configmaps"]) {
      assert.ok(names.includes(n), `${n} in /api/v1`);
    }
    const apps = await raw(srv, "GET", "/apis/apps/v1");
    assert.equal(apps.status, 200);
    const deploy = apps.json.resources.find((r: { name: string }) => r.name === "deployments");
    assert.equal(deploy.kind, "Deployment");
    assert.equal(deploy.namespaced, true);
    assert.deepEqual(deploy.shortNames, ["deploy"]);
    const group = await raw(srv, "GET", "/apis/apps");
    assert.equal(group.status, 200);
    assert.equal(group.json.kind, "APIGroup");
    assert.equal(group.json.name, "apps");
    const missing = await raw(srv, "GET", "/apis/apps/v9");
    assert.equal(missing.status, 404);
    assert.equal(missing.json.kind, "Status");
  });
});

describe("openapi", () => {
  test("/openapi/v3 index and a group-version document with a patch operation", async () => {
    const index = await raw(srv, "GET", "/openapi/v3?timeout=32s");
    assert.equal(index.status, 200);
    assert.ok(index.json.paths["api/v1"], "api/v1 in the index");
    const appsRef = index.json.paths["apis/apps/v1"]?.serverRelativeURL;
    assert.match(appsRef, /^\/openapi\/v3\/apis\/apps\/v1/);
    const doc = await raw(srv, "GET", appsRef);
    assert.equal(doc.status, 200);
    const item = doc.json.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    assert.deepEqual(item.patch["x-kubernetes-group-version-kind"], {
      group: "apps",
      version: "v1",
      kind: "Deployment",
    });
  });

  test("/openapi/v2 in protobuf (client-go's Accept) and JSON: one document, one ETag, 304 on If-None-Match", async () => {
    const pb = await raw(srv, "GET", "/openapi/v2?timeout=32s", {
      headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf" },
    });
    assert.equal(pb.status, 200);
    assert.equal(pb.headers["content-type"], "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
    const json = await raw(srv, "GET", "/openapi/v2", { headers: { accept: "application/json" } });
    assert.equal(json.status, 200);
    assert.equal(json.headers["content-type"], "application/json");
    assert.equal(json.json.swagger, "2.0");
    assert.deepEqual(json.json.info, { title: "Kubernetes", version: "v1.33.0" });
    assert.deepEqual(json.json.definitions["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"], [
      { group: "apps", kind: "Deployment", version: "v1" },
    ]);
    assert.deepStrictEqual(decodeDocument(pb.bytes), json.json);
    const etag = String(json.headers.etag);
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    assert.equal(pb.headers.etag, etag);
    const again = await raw(srv, "GET", "/openapi/v2", {
      headers: { accept: "application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    const stale = await raw(srv, "GET", "/openapi/v2", { headers: { "if-none-match": '"0"' } });
    assert.equal(stale.status, 200);
  });
});

describe("tables", () => {
  test("a list with the Table Accept is a Table whose rows carry PartialObjectMetadata", async () => {
    const a = await raw(srv, "GET", "/api/v1/namespaces?limit=500", { headers: { accept: TABLE_ACCEPT } });
    assert.equal(a.status, 200, a.text);
    assert.match(String(a.headers["content-type"]), /^application\/json;as=Table;v=v1;g=meta\.k8s\.io/);
    assert.equal(a.json.kind, "Table");
    assert.equal(a.json.apiVersion, "meta.k8s.io/v1");
    assert.ok(a.json.metadata.resourceVersion, "Table lists carry a resourceVersion");
    assert.deepEqual(
      a.json.columnDefinitions.map((c: { name: string }) => c.name),
      ["Name", "Status", "Age"],
    );
    const row = a.json.rows.find((r: { cells: unknown[] }) => r.cells[0] === "default");
    assert.ok(row, "the default namespace is listed");
    assert.equal(row.cells[1], "Active");
    assert.equal(row.object.kind, "PartialObjectMetadata");
    assert.equal(row.object.metadata.name, "default");
  });

  test("a single object with the Table Accept is a one-row Table; plain JSON otherwise", async () => {
    const t = await raw(srv, "GET", "/api/v1/namespaces/default", { headers: { accept: TABLE_ACCEPT } });
    assert.equal(t.status, 200);
    assert.equal(t.json.kind, "Table");
    assert.equal(t.json.rows.length, 1);
    const full = await raw(srv, "GET", "/api/v1/namespaces/default?includeObject=Object", {
      headers: { accept: TABLE_ACCEPT },
    });
    assert.equal(full.json.rows[0].object.kind, "Namespace");
    const plain = await raw(srv, "GET", "/api/v1/namespaces/default", { headers: { accept: "application/json" } });
    assert.equal(plain.json.kind, "Namespace");
    const typed = await raw(srv, "GET", "/api/v1/namespaces/default", {
      headers: { accept: "application/vnd.kubernetes.protobuf,application/json" },
    });
    assert.equal(typed.status, 200);
    // client-go's typed clients prefer protobuf, and get it.
    assert.equal(typed.headers["content-type"], "application/vnd.kubernetes.protobuf");
    assert.equal(decode(typed.bytes)?.object.kind, "Namespace");
  });
});
