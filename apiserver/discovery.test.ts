import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_RESOURCES } from "#pkg/api/resources.js";
import { TABLE_ACCEPT } from "#pkg/api/table.js";
import {
  aggregatedDiscovery,
  apiResourceList,
  DISCOVERY_CONTENT_TYPE,
  legacyApiGroup,
  legacyApiGroupList,
  legacyApiVersions,
  negotiateDiscovery,
  tableVersionFromAccept,
  wantsTable,
} from "./discovery.js";

const KUBECTL_DISCOVERY_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

describe("Accept negotiation", () => {
  test("discovery flavours as kubectl asks", () => {
    assert.equal(negotiateDiscovery(KUBECTL_DISCOVERY_ACCEPT), "v2");
    assert.equal(
      negotiateDiscovery("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"),
      "legacy",
      "kubectl 1.27-1.29: v2beta1 is off, as upstream's since 1.33",
    );
    assert.equal(negotiateDiscovery("application/json, */*"), "legacy");
    assert.equal(negotiateDiscovery(undefined), "legacy");
    assert.equal(negotiateDiscovery("application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList"), "v2");
    assert.equal(negotiateDiscovery("application/json;g=apidiscovery.k8s.io;v=v9;as=APIGroupDiscoveryList"), "legacy");
  });

  test("Table requests", () => {
    assert.equal(tableVersionFromAccept(TABLE_ACCEPT), "v1");
    assert.equal(wantsTable(TABLE_ACCEPT), true);
    assert.equal(
      tableVersionFromAccept("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"),
      "v1beta1",
    );
    assert.equal(wantsTable("application/json"), false);
    assert.equal(wantsTable("application/json, */*"), false);
    assert.equal(wantsTable(undefined), false);
    assert.equal(wantsTable("application/json,application/json;as=Table;v=v1;g=meta.k8s.io"), false, "JSON first wins");
    assert.equal(wantsTable("application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io"), true, "q ranks");
    assert.equal(wantsTable("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"), false);
  });
});

describe("aggregated discovery", () => {
  test("content types carry the parameters", () => {
    assert.equal(DISCOVERY_CONTENT_TYPE.v2, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
    assert.equal(
      DISCOVERY_CONTENT_TYPE.v2beta1,
      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
    );
  });

  test("/api: one item named '' holding core v1", () => {
    const doc = aggregatedDiscovery("core", "v2");
    assert.equal(doc.kind, "APIGroupDiscoveryList");
    assert.equal(doc.apiVersion, "apidiscovery.k8s.io/v2");
    assert.equal(doc.items.length, 1);
    const item = doc.items[0]!;
    assert.equal(item.metadata.name, "");
    assert.equal(item.versions[0]?.version, "v1");
    assert.equal(item.versions[0]?.freshness, "Current");
    const pods = item.versions[0]!.resources.find((r) => r.resource === "pods")!;
    assert.deepEqual(pods.responseKind, { group: "", version: "v1", kind: "Pod" });
    assert.equal(pods.scope, "Namespaced");
    assert.equal(pods.singularResource, "pod");
    assert.deepEqual(pods.shortNames, ["po"]);
    assert.deepEqual(pods.categories, ["all"]);
    assert.ok(pods.verbs.includes("watch"));
    assert.ok(pods.subresources?.some((s) => s.subresource === "log"));
    const ns = item.versions[0]!.resources.find((r) => r.resource === "namespaces")!;
    assert.equal(ns.scope, "Cluster");
  });

  test("/apis: named groups, v2beta1 flavour", () => {
    const doc = aggregatedDiscovery("apis", "v2beta1");
    assert.equal(doc.apiVersion, "apidiscovery.k8s.io/v2beta1");
    const names = doc.items.map((i) => i.metadata.name);
    assert.deepEqual(names, [
      "apps",
      "authentication.k8s.io",
      "authorization.k8s.io",
      "batch",
      "policy",
      "rbac.authorization.k8s.io",
      "coordination.k8s.io",
      "discovery.k8s.io",
      "storage.k8s.io",
      "scheduling.k8s.io",
    ]);
    const deploy = doc.items[0]!.versions[0]!.resources.find((r) => r.resource === "deployments")!;
    assert.deepEqual(deploy.responseKind, { group: "apps", version: "v1", kind: "Deployment" });
    assert.deepEqual(deploy.shortNames, ["deploy"]);
    assert.deepEqual(
      deploy.subresources?.find((s) => s.subresource === "scale"),
      {
        subresource: "scale",
        responseKind: { group: "autoscaling", version: "v1", kind: "Scale" },
        verbs: ["get", "patch", "update"],
      },
    );
    // Every resource of every group carries responseKind, scope and verbs.
    for (const g of doc.items)
      for (const v of g.versions)
        for (const r of v.resources) assert.ok(r.responseKind && r.scope && r.verbs.length > 0, r.resource);
    // `kubectl get all` needs categories.
    const all = doc.items.flatMap((g) =>
      g.versions.flatMap((v) => v.resources.filter((r) => r.categories?.includes("all"))),
    );
    assert.ok(all.length >= 6);
  });
});

describe("legacy discovery", () => {
  test("/api", () => {
    assert.deepEqual(legacyApiVersions("10.0.0.1:6443"), {
      kind: "APIVersions",
      versions: ["v1"],
      serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "10.0.0.1:6443" }],
    });
  });

  test("/apis and /apis/{group}", () => {
    const list = legacyApiGroupList();
    assert.equal(list.kind, "APIGroupList");
    const apps = list.groups.find((g) => g.name === "apps")!;
    assert.deepEqual(apps.versions, [{ groupVersion: "apps/v1", version: "v1" }]);
    assert.deepEqual(apps.preferredVersion, { groupVersion: "apps/v1", version: "v1" });
    assert.equal(
      list.groups.some((g) => g.name === ""),
      false,
    );
    assert.equal(legacyApiGroup("batch")?.kind, "APIGroup");
    assert.equal(legacyApiGroup("nope"), undefined);
    assert.equal(legacyApiGroup(""), undefined);
  });

  test("/api/v1 and /apis/apps/v1 with subresource entries", () => {
    const core = apiResourceList("", "v1")!;
    assert.equal(core.kind, "APIResourceList");
    assert.equal(core.groupVersion, "v1");
    const pods = core.resources.find((r) => r.name === "pods")!;
    assert.deepEqual(pods, {
      name: "pods",
      singularName: "pod",
      namespaced: true,
      kind: "Pod",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
      shortNames: ["po"],
      categories: ["all"],
    });
    assert.deepEqual(
      core.resources.find((r) => r.name === "pods/log"),
      {
        name: "pods/log",
        singularName: "",
        namespaced: true,
        kind: "Pod",
        verbs: ["get"],
      },
    );
    const eviction = core.resources.find((r) => r.name === "pods/eviction")!;
    assert.equal(eviction.group, "policy");
    const apps = apiResourceList("apps", "v1")!;
    const scale = apps.resources.find((r) => r.name === "deployments/scale")!;
    assert.deepEqual(
      { group: scale.group, version: scale.version, kind: scale.kind },
      { group: "autoscaling", version: "v1", kind: "Scale" },
    );
    assert.equal(apiResourceList("apps", "v2"), undefined);
    // The whole table is covered.
    const total = [
      "v1",
      "apps/v1",
      "authentication.k8s.io/v1",
      "authorization.k8s.io/v1",
      "batch/v1",
      "policy/v1",
      "rbac.authorization.k8s.io/v1",
      "coordination.k8s.io/v1",
      "discovery.k8s.io/v1",
      "storage.k8s.io/v1",
      "scheduling.k8s.io/v1",
    ]
      .map((gv) => (gv.includes("/") ? apiResourceList(gv.split("/")[0]!, "v1") : apiResourceList("", gv)))
      .reduce((n, l) => n + (l?.resources.filter((r) => !r.name.includes("/")).length ?? 0), 0);
    assert.equal(total, BUILTIN_RESOURCES.length);
  });
});
