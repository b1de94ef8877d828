import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BUILTIN_RESOURCES, isCreateOnly } from "#pkg/api/resources.js";
import { KIND_SCHEMAS } from "#pkg/api/types/schemas.js";
import { componentName } from "./openapi.js";
import { buildOpenApiV2Document, openApiV2 } from "./openapi-v2.js";
import { decodeDocument, encodeDocument } from "./openapi-v2-proto.js";

// biome-ignore lint/suspicious/noExplicitAny: assertions walk untyped documents
type Json = Record<string, any>;

const doc = (): Json => JSON.parse(openApiV2().json.toString());

/** Resolves a property through $refs to the schema kubectl would see. */
function resolve(d: Json, s: Json): Json {
  return s.$ref ? d.definitions[(s.$ref as string).replace("#/definitions/", "")] : s;
}

describe("OpenAPI v2", () => {
  test("the JSON and protobuf forms decode to the same document", () => {
    const v2 = openApiV2();
    assert.deepStrictEqual(decodeDocument(v2.protobuf), JSON.parse(v2.json.toString()));
    assert.equal(openApiV2(), v2, "built once and kept");
    assert.match(v2.etag, /^"[0-9A-F]{128}"$/);
  });

  test("the protobuf bytes are gnostic's Document: swagger = 1, info = 2, definitions = 9", () => {
    const bytes = encodeDocument({ swagger: "2.0", info: { title: "T", version: "v" }, definitions: {} });
    // field 1 (swagger) "2.0"; field 2 (info) {1: "T", 2: "v"}; field 9 (definitions) empty.
    assert.deepEqual([...bytes], [0x0a, 3, ...Buffer.from("2.0"), 0x12, 6, 0x0a, 1, 0x54, 0x12, 1, 0x76, 0x4a, 0]);
    assert.throws(() => encodeDocument({ swagger: "2.0", tags: [] }), /no mapping for "tags"/);
  });

  test("every kind served (and its List) has a definition named as upstream with its GVK", () => {
    const d = doc();
    let kinds = 0;
    for (const r of BUILTIN_RESOURCES) {
      const name = componentName(r.group, r.version, r.kind);
      const def = d.definitions[name];
      assert.ok(def, `definition ${name}`);
      assert.deepEqual(def["x-kubernetes-group-version-kind"], [{ group: r.group, kind: r.kind, version: r.version }]);
      assert.ok(def.properties.metadata || isCreateOnly(r), `${name} has metadata`);
      kinds++;
      if (isCreateOnly(r)) continue;
      const list = d.definitions[componentName(r.group, r.version, r.listKind)];
      assert.deepEqual(list["x-kubernetes-group-version-kind"], [
        { group: r.group, kind: r.listKind, version: r.version },
      ]);
      assert.deepEqual(list.properties.items.items, { $ref: `#/definitions/${name}` });
    }
    assert.equal(kinds, BUILTIN_RESOURCES.length);
    assert.ok(d.definitions["io.k8s.api.core.v1.Pod"]);
    assert.ok(d.definitions["io.k8s.api.core.v1.Binding"], "a subresource's kind with a schema");
    assert.equal(
      d.definitions["io.k8s.api.core.v1.Pod"].properties.metadata.$ref,
      "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    );
    assert.equal(Object.keys(KIND_SCHEMAS).length <= Object.keys(d.definitions).length, true);
  });

  test("every $ref resolves, and nothing of TypeBox or OpenAPI 3 is left", () => {
    const text = openApiV2().json.toString();
    const d = doc();
    for (const m of text.matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g))
      assert.ok(d.definitions[m[1] as string], `dangling $ref ${m[1]}`);
    for (const bad of ['"$id"', '"anyOf"', '"oneOf"', '"const"', '"x-kubernetes-int-or-string"', '"nullable"'])
      assert.equal(text.includes(bad), false, `${bad} in the v2 document`);
  });

  test("strategic merge patch metadata as upstream's (kubectl's apply reads it)", () => {
    const d = doc();
    const podSpec = d.definitions["io.k8s.api.core.v1.PodSpec"].properties;
    const pick = (s: Json) => ({
      strategy: s["x-kubernetes-patch-strategy"],
      key: s["x-kubernetes-patch-merge-key"],
      listType: s["x-kubernetes-list-type"],
      mapKeys: s["x-kubernetes-list-map-keys"],
    });
    assert.deepEqual(pick(podSpec.containers), { strategy: "merge", key: "name", listType: "map", mapKeys: ["name"] });
    assert.deepEqual(pick(podSpec.volumes), {
      strategy: "merge,retainKeys",
      key: "name",
      listType: "map",
      mapKeys: ["name"],
    });
    const container = resolve(d, podSpec.containers.items).properties;
    assert.deepEqual(pick(container.env), { strategy: "merge", key: "name", listType: "map", mapKeys: ["name"] });
    assert.deepEqual(pick(container.ports), {
      strategy: "merge",
      key: "containerPort",
      listType: "map",
      mapKeys: ["containerPort", "protocol"],
    });
    assert.deepEqual(pick(container.volumeMounts).key, "mountPath");
    assert.equal(podSpec.tolerations["x-kubernetes-patch-strategy"], undefined, "tolerations are atomic");
    const strategy = d.definitions["io.k8s.api.apps.v1.DeploymentSpec"].properties.strategy;
    assert.deepEqual(strategy, {
      $ref: "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy",
      "x-kubernetes-patch-strategy": "retainKeys",
    });
    const meta = d.definitions["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"].properties;
    assert.equal(meta.finalizers["x-kubernetes-patch-strategy"], "merge");
    assert.equal(meta.ownerReferences["x-kubernetes-patch-merge-key"], "uid");
    assert.equal(
      d.definitions["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"],
      "atomic",
    );
  });

  test("types as upstream's v2: int-or-string, Quantity, Time, required", () => {
    const d = doc();
    const rolling = d.definitions["io.k8s.api.apps.v1.RollingUpdateDeployment"].properties;
    assert.deepEqual(rolling.maxSurge, { type: "string", format: "int-or-string" });
    const resources = d.definitions["io.k8s.api.core.v1.ResourceRequirements"].properties;
    assert.deepEqual(resources.limits, { type: "object", additionalProperties: { type: "string" } });
    const cond = d.definitions["io.k8s.api.core.v1.PodCondition"].properties;
    assert.deepEqual(cond.lastProbeTime, { type: "string", format: "date-time" });
    assert.deepEqual(d.definitions["io.k8s.api.apps.v1.DeploymentSpec"].required, ["selector", "template"]);
    assert.deepEqual(d.definitions["io.k8s.api.core.v1.Container"].required, ["name"]);
  });

  test("each object path's patch has the GVK and a fieldValidation query parameter", () => {
    const d = doc();
    const p = d.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    assert.deepEqual(p.patch["x-kubernetes-group-version-kind"], { group: "apps", kind: "Deployment", version: "v1" });
    assert.ok(p.patch.parameters.some((x: Json) => x.name === "fieldValidation" && x.in === "query"));
    assert.equal(p.get.responses["200"].schema.$ref, "#/definitions/io.k8s.api.apps.v1.Deployment");
    assert.deepEqual(
      p.parameters.map((x: Json) => x.name),
      ["name", "namespace"],
    );
    const ns = d.paths["/api/v1/namespaces/{name}"];
    assert.deepEqual(ns.patch["x-kubernetes-group-version-kind"], { group: "", kind: "Namespace", version: "v1" });
    assert.equal(d.paths["/api/v1/pods"].get.responses["200"].schema.$ref, "#/definitions/io.k8s.api.core.v1.PodList");
    const scale = d.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"].patch;
    assert.deepEqual(scale["x-kubernetes-group-version-kind"], { group: "autoscaling", kind: "Scale", version: "v1" });
    assert.equal(scale.responses["200"].schema.$ref, "#/definitions/io.k8s.api.autoscaling.v1.Scale");
    assert.ok(d.paths["/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"].post);
  });

  test("a resource table of its own gets a document of its own", () => {
    const only = BUILTIN_RESOURCES.filter((r) => r.kind === "ConfigMap");
    const d = buildOpenApiV2Document(only);
    assert.deepEqual(Object.keys(d.paths as Json).sort(), [
      "/api/v1/configmaps",
      "/api/v1/namespaces/{namespace}/configmaps",
      "/api/v1/namespaces/{namespace}/configmaps/{name}",
    ]);
    assert.ok((d.definitions as Json)["io.k8s.api.core.v1.ConfigMap"]);
    assert.equal((d.definitions as Json)["io.k8s.api.core.v1.Pod"], undefined);
  });
});
