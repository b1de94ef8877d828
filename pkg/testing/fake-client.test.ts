import assert from "node:assert/strict";
import { test } from "node:test";
import { isConflict, isNotFound } from "../api/errors.js";
import { CONFIGMAPS, PODS } from "../api/resources.js";
import type { ConfigMap, Pod } from "../api/types/index.js";
import { Informer } from "../cache/informer.js";
import { FakeClient } from "./fake-client.js";
import { FakeInformer } from "./fake-informer.js";
import { FakeRecorder } from "./fake-recorder.js";

const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default" },
  data,
});

test("FakeClient: create, get, update with resourceVersion conflicts, status subresource, delete", async () => {
  const c = new FakeClient();
  const created = await c.create<ConfigMap>(CONFIGMAPS, "default", cm("a", { k: "1" }));
  assert.ok(created.metadata.resourceVersion);
  assert.equal((await c.get<ConfigMap>(CONFIGMAPS, "default", "a")).data?.k, "1");
  await c.update(CONFIGMAPS, "default", { ...created, data: { k: "2" } });
  await assert.rejects(c.update(CONFIGMAPS, "default", { ...created, data: { k: "3" } }), isConflict);
  c.seed(PODS, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default" },
    spec: { containers: [] },
  });
  const pod = c.object<Pod>(PODS, "default", "p");
  await c.update(
    PODS,
    "default",
    { ...pod, spec: { containers: [{ name: "x" }] }, status: { phase: "Running" } } as Pod,
    {
      subresource: "status",
    },
  );
  const after = c.object<Pod>(PODS, "default", "p");
  assert.equal(after?.status?.phase, "Running");
  assert.deepEqual(after?.spec?.containers, [], "a status update changes only the status");
  await c.delete(CONFIGMAPS, "default", "a");
  await assert.rejects(c.get(CONFIGMAPS, "default", "a"), isNotFound);
  assert.deepEqual(
    c.actions.map((a) => a.verb),
    ["create", "get", "update", "update", "update", "delete", "get"],
  );
});

test("FakeClient: a real Informer lists and watches it, with a field selector", async () => {
  const c = new FakeClient();
  c.seed(CONFIGMAPS, cm("a"), cm("b"));
  const inf = new Informer<ConfigMap>(c, CONFIGMAPS, { fieldSelector: "metadata.name=b" });
  const abort = new AbortController();
  const seen: string[] = [];
  inf.on("add", (o) => seen.push(`add ${o.metadata.name}`)).on("update", (_o, n) => seen.push(`update ${n.data?.k}`));
  const done = inf.run(abort.signal);
  await inf.waitForSync();
  assert.deepEqual(
    inf.list().map((o) => o.metadata.name),
    ["b"],
  );
  const b = c.object<ConfigMap>(CONFIGMAPS, "default", "b");
  await c.update(CONFIGMAPS, "default", { ...(b as ConfigMap), data: { k: "v" } });
  await c.create(CONFIGMAPS, "default", cm("c"));
  for (let i = 0; i < 20 && seen.length < 2; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ["add b", "update v"]);
  abort.abort();
  await done;
});

test("FakeInformer delivers adds, updates and tombstones; FakeRecorder keeps events", () => {
  const inf = new FakeInformer<ConfigMap>();
  const seen: string[] = [];
  inf
    .on("add", (o) => seen.push(`add ${o.metadata.name}`))
    .on("update", (_o, n) => seen.push(`update ${n.metadata.name}`))
    .on("delete", (o) => seen.push("tombstone" in o ? `tombstone ${o.key}` : `delete ${o.metadata.name}`));
  inf.add(cm("a"));
  inf.add(cm("a", { k: "1" }));
  inf.delete(cm("a"), { tombstone: true });
  assert.deepEqual(seen, ["add a", "update a", "tombstone default/a"]);
  assert.equal(inf.get("default/a"), undefined);

  const rec = new FakeRecorder();
  rec.event(cm("a"), "Warning", "Failed", "boom");
  assert.deepEqual(rec.reasons("default/a"), ["Failed"]);
  assert.equal(rec.events[0]?.message, "boom");
});

test("FakeClient: JSON merge patch (null deletes, resourceVersion precondition), 415 for other patch types, delete options recorded", async () => {
  const c = new FakeClient();
  const created = await c.create<ConfigMap>(CONFIGMAPS, "default", {
    ...cm("p", { a: "1", b: "2" }),
    metadata: { name: "p", namespace: "default", finalizers: ["x/y"] },
  });
  const patched = await c.patch<ConfigMap>(
    CONFIGMAPS,
    "default",
    "p",
    { data: { a: null, c: "3" }, metadata: { finalizers: null } },
    "merge",
  );
  assert.deepEqual(patched.data, { b: "2", c: "3" });
  assert.equal(patched.metadata.finalizers, undefined);
  await assert.rejects(
    c.patch(CONFIGMAPS, "default", "p", { metadata: { resourceVersion: created.metadata.resourceVersion } }, "merge"),
    isConflict,
  );
  await assert.rejects(
    c.patch(CONFIGMAPS, "default", "p", {}, "strategic"),
    (e: Error & { code?: number }) => e.code === 415,
  );
  await assert.rejects(c.patch(CONFIGMAPS, "default", "nope", {}, "merge"), isNotFound);
  assert.deepEqual(
    c.actionsOf("patch").map((a) => a.patchType),
    ["merge", "merge", "strategic", "merge"],
  );
  await c.delete(CONFIGMAPS, "default", "p", {
    propagationPolicy: "Foreground",
    preconditions: { uid: patched.metadata.uid },
  });
  assert.equal(c.actionsOf("delete")[0]?.options?.propagationPolicy, "Foreground");
});
