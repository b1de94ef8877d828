import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { registry } from "#pkg/api/resources.js";
import type { Strategy } from "./registry/strategy.js";
import { age, humanDuration, toTable, watchEventTable } from "./tables.js";

const now = new Date("2026-01-01T00:10:00Z");

const strategy: Strategy = {
  resource: registry.byGroupResource("", "configmaps")!,
  applyDefaults() {},
  prepareForCreate() {},
  prepareForUpdate() {},
  prepareForStatusUpdate() {},
  validate: () => [],
  validateUpdate: () => [],
  selectableFields: () => ({}),
  columns: [
    { name: "Name", type: "string", format: "name", description: "Name", priority: 0 },
    { name: "Data", type: "integer", format: "", description: "Keys", priority: 0 },
    { name: "Age", type: "string", format: "", description: "Age", priority: 0 },
  ],
  row: (o, t) => [
    o.metadata.name ?? "",
    Object.keys((o.data as object) ?? {}).length,
    age(o.metadata.creationTimestamp, t),
  ],
};

const cm = (name: string, ns: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name,
    namespace: ns,
    labels: { app: name },
    resourceVersion: "7",
    creationTimestamp: "2026-01-01T00:05:00Z",
  },
  data: { a: "1", b: "2" },
});

describe("toTable", () => {
  test("columns, rows and PartialObjectMetadata by default", () => {
    const t = toTable(strategy, [cm("x", "default"), cm("y", "kube-system")], { resourceVersion: "42" }, now);
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(t.metadata, { resourceVersion: "42" });
    assert.deepEqual(
      t.columnDefinitions.map((c) => c.name),
      ["Name", "Data", "Age"],
    );
    assert.deepEqual(t.rows[0]?.cells, ["x", 2, "5m"]);
    assert.deepEqual(t.rows[1]?.object, {
      kind: "PartialObjectMetadata",
      apiVersion: "meta.k8s.io/v1",
      metadata: cm("y", "kube-system").metadata,
    });
  });

  test("includeObject None / Object, v1beta1", () => {
    const none = toTable(strategy, [cm("x", "d")], {}, now, { includeObject: "None" });
    assert.equal(none.rows[0]?.object, undefined);
    const full = toTable(strategy, [cm("x", "d")], {}, now, { includeObject: "Object" });
    assert.deepEqual(full.rows[0]?.object, cm("x", "d"));
    const beta = toTable(strategy, [cm("x", "d")], {}, now, { version: "v1beta1" });
    assert.equal(beta.apiVersion, "meta.k8s.io/v1beta1");
    assert.equal((beta.rows[0]!.object as { apiVersion: string }).apiVersion, "meta.k8s.io/v1beta1");
  });

  test("empty list, one-row watch table", () => {
    assert.deepEqual(toTable(strategy, [], { resourceVersion: "1" }, now).rows, []);
    const w = watchEventTable(strategy, cm("x", "default"), now);
    assert.equal(w.rows.length, 1);
    assert.equal(w.metadata.resourceVersion, "7");
  });
});

describe("humanDuration (upstream's HumanDuration)", () => {
  test("steps", () => {
    const s = 1000;
    assert.equal(humanDuration(-5 * s), "<invalid>");
    assert.equal(humanDuration(-1 * s), "0s");
    assert.equal(humanDuration(59 * s), "59s");
    assert.equal(humanDuration(119 * s), "119s");
    assert.equal(humanDuration(125 * s), "2m5s");
    assert.equal(humanDuration(600 * s), "10m");
    assert.equal(humanDuration(3 * 3600 * s + 5 * 60 * s), "3h5m");
    assert.equal(humanDuration(30 * 3600 * s), "30h");
    assert.equal(humanDuration(3 * 86400 * s + 3600 * s), "3d1h");
    assert.equal(humanDuration(30 * 86400 * s), "30d");
    assert.equal(humanDuration(3 * 365 * 86400 * s + 86400 * s), "3y1d");
    assert.equal(humanDuration(10 * 365 * 86400 * s), "10y");
    assert.equal(age(undefined, now), "<unknown>");
  });
});
