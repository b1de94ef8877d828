import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isAlreadyExists, isConflict, isNotFound, type StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { type ResourceInfo, registry as resources } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { MemoryStorage } from "../storage/memory.js";
import { Registry } from "./registry.js";
import { generateNameSuffix } from "./store.js";

test("generateNameSuffix: 5 characters from upstream's alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = generateNameSuffix();
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    seen.add(s);
  }
  assert.ok(seen.size > 190);
});

test("metaTime (the store's timestamps) has second precision and honours an offset", () => {
  const nowRFC3339 = (offsetSeconds = 0) => metaTime(Date.now() + offsetSeconds * 1000);
  assert.match(nowRFC3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const diff = Date.parse(nowRFC3339(30)) - Date.parse(nowRFC3339());
  assert.ok(diff >= 29_000 && diff <= 31_000, String(diff));
});

// ------------------------------------------------------------------ the Store over MemoryStorage
// Fast checks of the store's behaviour without etcd (test/integration/registry.test.ts has the
// full set against a real etcd).

describe("Store over MemoryStorage", () => {
  const R = (name: string): ResourceInfo => {
    const r = resources.lookup(name);
    assert.ok(r, name);
    return r;
  };
  const ctx = {};
  let storage: MemoryStorage;
  let reg: Registry;
  beforeEach(async () => {
    storage = new MemoryStorage();
    reg = await Registry.open({
      etcdServers: [],
      prefix: "/registry",
      storage,
      log: silentLogger,
      compactionIntervalMs: 0,
    });
  });
  afterEach(async () => {
    await reg.close();
    storage.close();
  });
  const cm = (name: string, data: Record<string, string> = { k: "v" }): KubeObject => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name },
    data,
  });
  const pod = (name: string, nodeName?: string): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(nodeName ? { nodeName } : {}) },
  });

  test("create fills metadata; get, list, update with a stale resourceVersion is 409; generateName", async () => {
    const cms = reg.store(R("configmaps"));
    const made = await cms.create("default", cm("a"), ctx);
    assert.equal(made.metadata.namespace, "default");
    assert.ok(made.metadata.uid && made.metadata.creationTimestamp && made.metadata.resourceVersion);
    await assert.rejects(cms.create("default", cm("a"), ctx), isAlreadyExists);
    await assert.rejects(cms.create("nowhere", cm("b"), ctx), isNotFound);
    const upd = await cms.update("default", "a", { ...structuredClone(made), data: { k: "w" } }, ctx);
    assert.ok(Number(upd.object.metadata.resourceVersion) > Number(made.metadata.resourceVersion));
    await assert.rejects(cms.update("default", "a", structuredClone(made), ctx), isConflict);
    const gen = await cms.create("default", { ...cm(""), metadata: { generateName: "x-" } }, ctx);
    assert.match(gen.metadata.name ?? "", /^x-[a-z0-9]{5}$/);
    const list = await cms.list("default", {});
    assert.deepEqual(
      list.items.map((i) => i.metadata.name),
      ["a", gen.metadata.name],
    );
    const cached = await cms.list("default", { resourceVersion: "0" });
    assert.equal(cached.items.length, 2);
  });

  test("pods: binding, graceful deletion while bound, immediate when unbound", async () => {
    const pods = reg.store(R("pods"));
    await pods.create("default", pod("p"), ctx);
    await pods.bind(
      "default",
      "p",
      { apiVersion: "v1", kind: "Binding", metadata: { name: "p" }, target: { name: "n1" } } as KubeObject,
      ctx,
    );
    await assert.rejects(
      pods.bind(
        "default",
        "p",
        { apiVersion: "v1", kind: "Binding", metadata: { name: "p" }, target: { name: "n2" } } as KubeObject,
        ctx,
      ),
      isConflict,
    );
    const del = await pods.delete("default", "p", {}, ctx);
    assert.equal(del.deleted, false);
    assert.equal(del.object.metadata.deletionGracePeriodSeconds, 30);
    assert.equal((await pods.delete("default", "p", { gracePeriodSeconds: 0 }, ctx)).deleted, true);
    await pods.create("default", pod("q"), ctx);
    assert.equal((await pods.delete("default", "q", {}, ctx)).deleted, true);
  });

  test("namespaces: deletion marks them terminating, finalize removes them; immortal ones are kept", async () => {
    const nss = reg.store(R("namespaces"));
    await nss.create(undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }, ctx);
    const del = await nss.delete(undefined, "team", {}, ctx);
    assert.equal((del.object as { status?: { phase?: string } }).status?.phase, "Terminating");
    await assert.rejects(
      reg.store(R("configmaps")).create("team", cm("c"), ctx),
      (e) => (e as StatusError).code === 403,
    );
    const fin = structuredClone(await nss.get(undefined, "team")) as KubeObject & { spec: { finalizers: string[] } };
    fin.spec.finalizers = [];
    await nss.update(undefined, "team", fin, { subresource: "finalize" });
    await assert.rejects(nss.get(undefined, "team"), isNotFound);
    await assert.rejects(nss.delete(undefined, "default", {}, ctx), (e) => (e as StatusError).code === 403);
  });

  test("services: a ClusterIP each, released on delete; scale of a deployment", async () => {
    const svcs = reg.store(R("services"));
    const svc = (name: string): KubeObject => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name },
      spec: { ports: [{ port: 80 }] },
    });
    const a = (await svcs.create("default", svc("a"), ctx)) as KubeObject & { spec: { clusterIP: string } };
    const b = (await svcs.create("default", svc("b"), ctx)) as KubeObject & { spec: { clusterIP: string } };
    assert.notEqual(a.spec.clusterIP, b.spec.clusterIP);
    assert.equal((await reg.allocator.allocatedIPs()).has(a.spec.clusterIP), true);
    await svcs.delete("default", "a", {}, ctx);
    assert.equal((await reg.allocator.allocatedIPs()).has(a.spec.clusterIP), false);

    const deps = reg.store(R("deployments"));
    const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "busybox" }] } };
    await deps.create(
      "default",
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web" },
        spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template },
      } as KubeObject,
      ctx,
    );
    const scale = await deps.patchScale("default", "web", "merge", { spec: { replicas: 3 } }, ctx);
    assert.deepEqual(scale.spec, { replicas: 3 });
    assert.deepEqual((await deps.getScale("default", "web")).status, { replicas: 0, selector: "app=web" });
  });

  test("watch: initial state, then changes in order", async () => {
    const cms = reg.store(R("configmaps"));
    await cms.create("default", cm("a"), ctx);
    const ac = new AbortController();
    const it = cms.watch("default", {}, ac.signal)[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.type, "ADDED");
    await cms.patch("default", "a", "merge", { data: { k: "2" } }, ctx);
    await cms.delete("default", "a", {}, ctx);
    assert.equal((await it.next()).value?.type, "MODIFIED");
    assert.equal((await it.next()).value?.type, "DELETED");
    ac.abort();
  });
});
