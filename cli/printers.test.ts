import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Table } from "#pkg/api/table.js";
import { asPrintable, tableHeader, tableRows, toJson, toYaml } from "./printers.js";
import { GET_TABWRITER, TabWriter } from "./tabwriter.js";

const podTable: Table = {
  kind: "Table",
  apiVersion: "meta.k8s.io/v1",
  metadata: { resourceVersion: "10" },
  columnDefinitions: [
    { name: "Name", type: "string", format: "name", description: "", priority: 0 },
    { name: "Ready", type: "string", format: "", description: "", priority: 0 },
    { name: "Restarts", type: "integer", format: "", description: "", priority: 0 },
    { name: "Nominated Node", type: "string", format: "", description: "", priority: 1 },
  ],
  rows: [
    {
      cells: ["web-abc", "1/1", 0, null],
      object: {
        kind: "PartialObjectMetadata",
        apiVersion: "meta.k8s.io/v1",
        metadata: { name: "web-abc", namespace: "prod", labels: { app: "web", tier: "fe" } },
      },
    },
  ],
};

function render(f: Parameters<typeof tableRows>[1]): string {
  const w = new TabWriter(GET_TABWRITER);
  w.write(tableHeader(podTable, f));
  w.write(tableRows(podTable, f));
  return w.flush();
}

describe("table printing", () => {
  test("upper-case headers, 3-space columns, wide columns hidden", () => {
    assert.equal(render({ wide: false, withNamespace: false }), "NAME      READY   RESTARTS\nweb-abc   1/1     0\n");
  });

  test("-o wide shows priority>0 columns; null cells print <none>", () => {
    assert.equal(
      render({ wide: true, withNamespace: false }),
      "NAME      READY   RESTARTS   NOMINATED NODE\nweb-abc   1/1     0          <none>\n",
    );
  });

  test("-A adds NAMESPACE from row.object.metadata; kind prefix and labels", () => {
    assert.equal(
      render({ wide: false, withNamespace: true, kindPrefix: "pod", showLabels: true }),
      "NAMESPACE   NAME          READY   RESTARTS   LABELS\nprod        pod/web-abc   1/1     0          app=web,tier=fe\n",
    );
  });
});

describe("object output", () => {
  const obj = {
    metadata: { name: "a", managedFields: [{ manager: "x" }] },
    kind: "ConfigMap",
    apiVersion: "v1",
    data: { k: "v" },
  };

  test("one object prints as itself, without managedFields, apiVersion/kind first", () => {
    assert.equal(
      toYaml(asPrintable([obj], false)),
      "apiVersion: v1\ndata:\n  k: v\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    const json = JSON.parse(toJson(asPrintable([obj], false)));
    assert.deepEqual(Object.keys(json), ["apiVersion", "kind", "metadata", "data"]);
    assert.ok(toJson(asPrintable([obj], false)).includes('\n    "apiVersion"'), "4-space JSON indent like kubectl");
  });

  test("several objects print as kind: List", () => {
    const list = asPrintable([obj, obj], false) as { kind: string; items: unknown[]; apiVersion: string };
    assert.equal(list.kind, "List");
    assert.equal(list.apiVersion, "v1");
    assert.equal(list.items.length, 2);
    assert.match(toYaml(list), /^apiVersion: v1\nitems:\n- apiVersion: v1\n/);
  });
});
