// @kubernetes/client-node (the official JavaScript client, a devDependency) works against kubeling
// unchanged (issue 12): typed CRUD with upstream's errors, a raw watch, and its informer (list,
// then watch, add/update/delete handlers), against a real API server and etcd.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { ApiException, CoreV1Api, KubeConfig, makeInformer, type V1ConfigMap, Watch } from "@kubernetes/client-node";
import { NAMESPACES } from "#pkg/api/resources.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { waitFor } from "../harness/wait.js";

const NS = "client-node";

let api: TestApiServer;
let core: CoreV1Api;
let kc: KubeConfig;

const cm = (name: string, data: Record<string, string>): V1ConfigMap => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, labels: { from: "client-node" } },
  data,
});

before(async () => {
  api = await startApiServer();
  await api.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});

after(async () => {
  await api?.stop();
});

test("typed CRUD: create, read, JSON patch (its default patch type), replace, list by label, delete; 404 and 409 as ApiExceptions", async () => {
  const created = await core.createNamespacedConfigMap({ namespace: NS, body: cm("a", { k: "1" }) });
  assert.ok(created.metadata?.uid);
  assert.deepEqual((await core.readNamespacedConfigMap({ name: "a", namespace: NS })).data, { k: "1" });
  const patched = await core.patchNamespacedConfigMap({
    name: "a",
    namespace: NS,
    body: [{ op: "add", path: "/data/m", value: "2" }],
  });
  assert.deepEqual(patched.data, { k: "1", m: "2" });
  const replaced = await core.replaceNamespacedConfigMap({
    name: "a",
    namespace: NS,
    body: { ...patched, data: { r: "3" } },
  });
  assert.deepEqual(replaced.data, { r: "3" });
  const listed = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: "from=client-node" });
  assert.deepEqual(
    listed.items.map((i) => i.metadata?.name),
    ["a"],
  );
  await assert.rejects(
    core.createNamespacedConfigMap({ namespace: NS, body: cm("a", {}) }),
    (err: unknown) => err instanceof ApiException && err.code === 409,
  );
  await core.deleteNamespacedConfigMap({ name: "a", namespace: NS });
  await assert.rejects(
    core.readNamespacedConfigMap({ name: "a", namespace: NS }),
    (err: unknown) => err instanceof ApiException && err.code === 404,
  );
});

test("Watch: the events of a create, an update and a delete, in order", async () => {
  const seen: string[] = [];
  const watch = new Watch(kc);
  const from = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion;
  let failed: unknown;
  const abort = await watch.watch(
    `/api/v1/namespaces/${NS}/configmaps`,
    { resourceVersion: from, allowWatchBookmarks: true },
    (phase, obj: V1ConfigMap) => {
      if (phase !== "BOOKMARK") seen.push(`${phase} ${obj.metadata?.name} ${Object.keys(obj.data ?? {}).join(",")}`);
    },
    (err: unknown) => {
      if (err) failed = err;
    },
  );
  try {
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("w", { x: "1" }) });
    await core.patchNamespacedConfigMap({
      name: "w",
      namespace: NS,
      body: [{ op: "add", path: "/data/y", value: "2" }],
    });
    await core.deleteNamespacedConfigMap({ name: "w", namespace: NS });
    await waitFor(() => seen.length >= 3 || failed !== undefined, { timeoutMs: 20_000, message: `3 events: ${seen}` });
    assert.equal(failed, undefined);
    assert.deepEqual(seen, ["ADDED w x", "MODIFIED w x,y", "DELETED w x,y"]);
  } finally {
    abort.abort();
  }
});

test("makeInformer: lists what exists, then add, update and delete handlers fire; its cache follows", async () => {
  await core.createNamespacedConfigMap({ namespace: NS, body: cm("before", { b: "1" }) });
  const informer = makeInformer<V1ConfigMap>(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
    core.listNamespacedConfigMap({ namespace: NS }),
  );
  const events: string[] = [];
  informer.on("add", (o) => events.push(`add ${o.metadata?.name}`));
  informer.on("update", (o) => events.push(`update ${o.metadata?.name}`));
  informer.on("delete", (o) => events.push(`delete ${o.metadata?.name}`));
  let error: unknown;
  informer.on("error", (err) => {
    error = err;
  });
  await informer.start();
  try {
    await waitFor(() => events.includes("add before"), { timeoutMs: 20_000, message: `the listed object: ${events}` });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm("after", { a: "1" }) });
    await waitFor(() => events.includes("add after"), { timeoutMs: 20_000, message: `add: ${events}` });
    await core.patchNamespacedConfigMap({
      name: "after",
      namespace: NS,
      body: [{ op: "replace", path: "/data/a", value: "2" }],
    });
    await waitFor(() => events.includes("update after"), { timeoutMs: 20_000, message: `update: ${events}` });
    assert.equal(informer.get("after", NS)?.data?.a, "2");
    await core.deleteNamespacedConfigMap({ name: "after", namespace: NS });
    await waitFor(() => events.includes("delete after"), { timeoutMs: 20_000, message: `delete: ${events}` });
    assert.equal(informer.get("after", NS), undefined);
    assert.deepEqual(
      informer.list(NS).map((o) => o.metadata?.name),
      ["before"],
    );
    assert.equal(error, undefined);
  } finally {
    await informer.stop();
  }
});
