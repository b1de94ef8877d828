import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../api/meta.js";
import { controllerUidIndexFunc, NAMESPACE_INDEX, nodeNameIndexFunc, ownerUidIndexFunc, Store } from "./store.js";

function obj(ns: string | undefined, name: string, rv: string, extra: Partial<KubeObject> = {}): KubeObject {
  return { metadata: { ...(ns ? { namespace: ns } : {}), name, resourceVersion: rv }, ...extra };
}

test("store keys by namespace/name and keeps the namespace index current", () => {
  const s = new Store();
  s.upsert(obj("a", "x", "1"));
  s.upsert(obj("b", "x", "2"));
  s.upsert(obj(undefined, "node1", "3"));
  assert.equal(s.get("a/x")?.metadata.resourceVersion, "1");
  assert.equal(s.get("node1")?.metadata.name, "node1");
  assert.deepEqual(
    s.byIndex(NAMESPACE_INDEX, "a").map((o) => o.metadata.name),
    ["x"],
  );
  assert.deepEqual(s.indexKeys(NAMESPACE_INDEX, ""), ["node1"]);
  s.delete("a/x");
  assert.deepEqual(s.byIndex(NAMESPACE_INDEX, "a"), []);
  assert.deepEqual(s.indexValues(NAMESPACE_INDEX).sort(), ["", "b"]);
});

test("custom indexes follow updates, and addIndex indexes existing objects", () => {
  const s = new Store();
  s.upsert(obj("ns", "p1", "1", { spec: { nodeName: "n1" } }));
  s.addIndex("node", nodeNameIndexFunc);
  assert.equal(s.byIndex("node", "n1").length, 1);
  s.upsert(obj("ns", "p1", "2", { spec: { nodeName: "n2" } }));
  assert.equal(s.byIndex("node", "n1").length, 0);
  assert.equal(s.byIndex("node", "n2")[0]?.metadata.resourceVersion, "2");
  assert.throws(() => s.addIndex("node", nodeNameIndexFunc), /already exists/);
  assert.throws(() => s.byIndex("nope", "x"), /does not exist/);

  s.addIndex("owner", ownerUidIndexFunc);
  s.addIndex("controller", controllerUidIndexFunc);
  s.upsert({
    metadata: {
      namespace: "ns",
      name: "p2",
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true },
        { apiVersion: "v1", kind: "X", name: "x", uid: "u2" },
      ],
    },
  });
  assert.equal(s.byIndex("owner", "u2").length, 1);
  assert.equal(s.byIndex("controller", "u1").length, 1);
  assert.equal(s.byIndex("controller", "u2").length, 0);
});

test("replace reports added, changed and vanished objects", () => {
  const s = new Store();
  s.replace([obj("n", "a", "1"), obj("n", "b", "1"), obj("n", "c", "1")]);
  const r = s.replace([obj("n", "a", "1"), obj("n", "b", "2"), obj("n", "d", "1")]);
  assert.deepEqual(
    r.added.map((o) => o.metadata.name),
    ["d"],
  );
  assert.deepEqual(
    r.updated.map(([o, n]) => `${o.metadata.name}:${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
    ["b:1->2"],
  );
  assert.deepEqual(
    r.deleted.map((o) => o.metadata.name),
    ["c"],
  );
  assert.deepEqual(s.keys().sort(), ["n/a", "n/b", "n/d"]);
  assert.equal(s.byIndex(NAMESPACE_INDEX, "n").length, 3);
});

test("lister: typed read-only lookups by namespace/name, namespace and selector", async () => {
  const { Lister } = await import("./lister.js");
  const { parseLabelSelector } = await import("../api/labels.js");
  const s = new Store();
  s.upsert({ metadata: { namespace: "a", name: "x", labels: { app: "web" } } });
  s.upsert({ metadata: { namespace: "a", name: "y", labels: { app: "db" } } });
  s.upsert({ metadata: { namespace: "b", name: "x" } });
  const l = new Lister(s);
  assert.equal(l.get("a", "x")?.metadata.name, "x");
  assert.equal(l.get("c", "x"), undefined);
  assert.equal(l.list().length, 3);
  assert.equal(l.list("a").length, 2);
  assert.deepEqual(
    l.list("a", parseLabelSelector("app=web")).map((o) => o.metadata.name),
    ["x"],
  );
  // Compile-time guard: the line below must not typecheck (objects from a lister are read-only).
  const assign = (o: NonNullable<ReturnType<typeof l.get>>) => {
    // @ts-expect-error: read-only
    o.metadata.name = "changed";
  };
  assert.equal(typeof assign, "function");
});
