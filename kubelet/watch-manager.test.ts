import assert from "node:assert/strict";
import { test } from "node:test";
import { podConfigMapNames, podSecretNames } from "#pkg/api/pod-references.js";
import { CONFIGMAPS } from "#pkg/api/resources.js";
import type { ConfigMap, Pod } from "#pkg/api/types/index.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { FakeClient } from "#pkg/testing/index.js";
import { WatchBasedManager } from "./watch-manager.js";

function pod(uid: string, cms: string[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: uid, namespace: "default", uid },
    spec: { containers: [{ name: "c", envFrom: cms.map((name) => ({ configMapRef: { name } })) }] },
  };
}

test("WatchBasedManager: one watch per referenced object, shared by pods, stopped with the last reference", async () => {
  const client = new FakeClient();
  client.seed(CONFIGMAPS, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "a", namespace: "default" },
    data: { k: "1" },
  });
  const woken: string[] = [];
  const m = new WatchBasedManager<ConfigMap>({
    client,
    resource: CONFIGMAPS,
    referencedNames: podConfigMapNames,
    onChange: (uids) => woken.push(...uids),
    log: silentLogger,
    clock: new FakeClock(),
  });
  m.registerPod(pod("p1", ["a", "b"]));
  m.registerPod(pod("p2", ["a"]));
  assert.deepEqual(m.watched().sort(), ["default/a", "default/b"]);
  assert.equal((await m.get("default", "a"))?.data?.k, "1");
  assert.equal(await m.get("default", "b"), undefined, "a missing object reads as undefined");
  assert.deepEqual(client.actionsOf("get"), []);

  const a = client.object<ConfigMap>(CONFIGMAPS, "default", "a") as ConfigMap;
  await client.update(CONFIGMAPS, "default", { ...a, data: { k: "2" } });
  for (let i = 0; i < 20 && woken.length < 2; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(woken.sort(), ["p1", "p2"], "a change wakes every pod that references the object");
  assert.equal((await m.get("default", "a"))?.data?.k, "2");

  m.registerPod(pod("p1", ["a"]));
  assert.deepEqual(m.watched(), ["default/a"], "b is no longer referenced");
  m.unregisterPod("p1");
  assert.deepEqual(m.watched(), ["default/a"], "p2 still references a");
  m.unregisterPod("p2");
  assert.deepEqual(m.watched(), []);
  m.stop();
});

function manager(client: FakeClient, clock = new FakeClock()): WatchBasedManager<ConfigMap> {
  return new WatchBasedManager<ConfigMap>({
    client,
    resource: CONFIGMAPS,
    referencedNames: podConfigMapNames,
    onChange: () => {},
    log: silentLogger,
    clock,
  });
}

/** A FakeClient whose lists always fail: an informer on it never syncs. */
class FailingListClient extends FakeClient {
  override async list(): Promise<never> {
    throw new Error("list refused");
  }
}

test("WatchBasedManager: get() of an object no pod references watches it only for that call", async () => {
  const client = new FakeClient();
  client.seed(CONFIGMAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" } });
  const m = manager(client);
  assert.equal((await m.get("default", "x"))?.metadata.name, "x");
  assert.deepEqual(m.watched(), [], "the watch is released when get returns");
  m.registerPod(pod("p1", ["x"]));
  assert.equal((await m.get("default", "x"))?.metadata.name, "x");
  assert.deepEqual(m.watched(), ["default/x"], "a registered object stays watched");
  m.stop();
});

test("WatchBasedManager: a get() waiting for the first list fails as stopped on stop(), as timed out on the clock", async () => {
  const clock = new FakeClock();
  const m = manager(new FailingListClient(), clock);
  m.registerPod(pod("p1", ["slow"]));
  const timedOut = m.get("default", "slow");
  clock.step(10_000);
  await assert.rejects(timedOut, /failed to sync configmaps cache for default\/slow: timed out/);

  const waiting = m.get("default", "slow");
  m.stop();
  await assert.rejects(waiting, /failed to sync configmaps cache for default\/slow: the manager was stopped/);
  await assert.rejects(m.get("default", "slow"), /the manager is stopped/);
  assert.deepEqual(m.watched(), []);
});

test("podConfigMapNames / podSecretNames: volumes, projections, env and envFrom of every container", () => {
  const p: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p" },
    spec: {
      volumes: [
        { name: "v1", configMap: { name: "cm-vol" } },
        { name: "v2", secret: { secretName: "s-vol" } },
        { name: "v3", projected: { sources: [{ configMap: { name: "cm-proj" } }, { secret: { name: "s-proj" } }] } },
      ],
      initContainers: [{ name: "i", envFrom: [{ secretRef: { name: "s-init" } }] }],
      containers: [
        {
          name: "c",
          env: [
            { name: "A", valueFrom: { configMapKeyRef: { name: "cm-env", key: "k" } } },
            { name: "B", valueFrom: { secretKeyRef: { name: "s-env", key: "k" } } },
          ],
        },
      ],
    },
  };
  assert.deepEqual([...podConfigMapNames(p)].sort(), ["cm-env", "cm-proj", "cm-vol"]);
  assert.deepEqual([...podSecretNames(p)].sort(), ["s-env", "s-init", "s-proj", "s-vol"]);
});
