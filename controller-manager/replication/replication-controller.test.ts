import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { PODS, REPLICASETS, REPLICATIONCONTROLLERS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod, ReplicationController } from "#pkg/api/types/core.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { abortFakeContexts, type FakeClient, FakeRecorder, fakeControllerContext } from "#pkg/testing/index.js";
import { CONTROLLERS } from "../controllers.js";
import { REPLICA_SET_KIND, ReplicaSetController, type ReplicaSetLike } from "../replicaset/replica-set.js";
import { REPLICATION_CONTROLLER_KIND, replicationControllerSelector } from "./replication-controller.js";

const TEMPLATE = {
  metadata: { labels: { app: "web", tier: "front" } },
  spec: { containers: [{ name: "c", image: "busybox" }] },
};

function rc(name: string, replicas: number, selector: Record<string, string> = { app: "web" }): ReplicationController {
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name, namespace: "default", uid: `uid-${name}`, generation: 2 },
    spec: { replicas, selector, template: structuredClone(TEMPLATE) },
  };
}

function rs(name: string, replicas: number, labels: Record<string, string>): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default", uid: `uid-rs-${name}`, generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "busybox" }] } },
    },
  };
}

function orphan(name: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}`, labels, creationTimestamp: metaTime(1_000_000) },
    spec: { containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Pending" },
  };
}

afterEach(abortFakeContexts);

/** One FakeClient and one InformerFactory shared by the controllers, as in the controller manager. */
function rig() {
  const recorders = new Map<string, FakeRecorder>();
  const ctx = fakeControllerContext({
    recorder: (component) => {
      const r = recorders.get(component) ?? new FakeRecorder();
      recorders.set(component, r);
      return r as unknown as EventRecorder;
    },
  });
  return {
    client: ctx.client,
    factory: ctx.informers,
    recorders,
    ctx,
    async start() {
      await ctx.start();
    },
  };
}

/** Syncs until a sync with met expectations changes nothing (the informers catch up in between). */
async function settle<T extends ReplicaSetLike>(
  client: FakeClient,
  controllers: Array<ReplicaSetController<T> | ReplicaSetController>,
  key: string,
): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await new Promise((res) => setTimeout(res, 5));
    const before = client.actions.filter((a) => a.verb !== "get").length;
    const satisfied = controllers.every((c) => c.expectations.satisfied(key));
    for (const c of controllers) await c.sync(key);
    if (satisfied && client.actions.filter((a) => a.verb !== "get").length === before) return;
  }
  assert.fail(`${key} did not settle`);
}

const podsOf = (client: FakeClient) => client.list(PODS, "default").then((l) => l.items);

describe("replicationControllerSelector", () => {
  test("an equality selector; empty or missing selects nothing", () => {
    const sel = replicationControllerSelector(rc("web", 1));
    assert.ok(sel?.matches({ app: "web", tier: "x" }));
    assert.equal(sel?.matches({ app: "api" }), false);
    assert.equal(replicationControllerSelector(rc("web", 1, {})), undefined);
    const none = rc("web", 1);
    delete none.spec?.selector;
    assert.equal(replicationControllerSelector(none), undefined);
  });
});

describe("the ReplicaSet controller over ReplicationControllers", () => {
  test("is registered as replicationcontroller, named and sourced as upstream's", () => {
    const r = rig();
    const init = CONTROLLERS.replicationcontroller;
    assert.ok(init);
    const c = init(r.ctx);
    assert.equal(c.name, "replicationcontroller");
    assert.ok(r.recorders.has("replication-controller"));
    assert.equal(c instanceof ReplicaSetController, true, "the one controller implementation, not a copy");
  });

  test("creates pods owned by the RC from its template, with events and RC status", async () => {
    const r = rig();
    const controller = new ReplicaSetController(r.ctx, REPLICATION_CONTROLLER_KIND);
    r.client.seed(REPLICATIONCONTROLLERS, rc("web", 3));
    await r.start();
    await settle(r.client, [controller], "default/web");
    const pods = await podsOf(r.client);
    assert.equal(pods.length, 3);
    for (const p of pods) {
      assert.equal(p.metadata.generateName, "web-");
      assert.deepEqual(p.metadata.labels, { app: "web", tier: "front" });
      assert.deepEqual(p.metadata.ownerReferences, [
        {
          apiVersion: "v1",
          kind: "ReplicationController",
          name: "web",
          uid: "uid-web",
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    assert.deepEqual(r.recorders.get("replication-controller")?.reasons("default/web"), [
      "SuccessfulCreate",
      "SuccessfulCreate",
      "SuccessfulCreate",
    ]);
    const statusWrites = r.client.actions.filter((a) => a.verb === "update" && a.subresource === "status");
    assert.ok(statusWrites.length > 0);
    assert.ok(statusWrites.every((a) => a.resource === "replicationcontrollers"));
    const status = r.client.object<ReplicationController>(REPLICATIONCONTROLLERS, "default", "web")?.status;
    assert.deepEqual(
      { ...status },
      { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 2 },
    );
    // Scaling down deletes down to spec.replicas.
    await r.client.update(REPLICATIONCONTROLLERS, "default", {
      ...(r.client.object<ReplicationController>(REPLICATIONCONTROLLERS, "default", "web") as ReplicationController),
      spec: { ...rc("web", 1).spec },
    });
    await settle(r.client, [controller], "default/web");
    assert.equal((await podsOf(r.client)).length, 1);
    assert.ok(r.recorders.get("replication-controller")?.reasons().includes("SuccessfulDelete"));
  });

  test("adopts an orphan its equality selector matches; a ReplicaSet's pods are not its own", async () => {
    const r = rig();
    const rcs = new ReplicaSetController(r.ctx, REPLICATION_CONTROLLER_KIND);
    const rss = new ReplicaSetController(r.ctx, REPLICA_SET_KIND);
    // The RC (selector app=web) and the RS (selector app=web,tier=front) overlap: whoever owns a
    // pod keeps it, the other leaves it alone.
    r.client.seed(REPLICATIONCONTROLLERS, rc("web", 2));
    r.client.seed(REPLICASETS, rs("front", 1, { app: "web", tier: "front" }));
    r.client.seed(PODS, orphan("stray", { app: "web" }));
    await r.start();
    await settle(r.client, [rcs], "default/web");
    const stray = r.client.object<Pod>(PODS, "default", "stray");
    assert.equal(stray?.metadata.ownerReferences?.[0]?.kind, "ReplicationController");
    assert.equal(stray?.metadata.ownerReferences?.[0]?.uid, "uid-web");
    assert.equal((await podsOf(r.client)).length, 2, "the adopted orphan counts: one create");
    await settle(r.client, [rss], "default/front");
    await settle(r.client, [rcs, rss], "default/web");
    await settle(r.client, [rcs, rss], "default/front");
    const pods = await podsOf(r.client);
    const ownedBy = (kind: string) => pods.filter((p) => p.metadata.ownerReferences?.[0]?.kind === kind).length;
    assert.equal(ownedBy("ReplicationController"), 2);
    assert.equal(ownedBy("ReplicaSet"), 1);
    assert.equal(pods.length, 3);
    assert.equal(r.client.object<ReplicationController>(REPLICATIONCONTROLLERS, "default", "web")?.status?.replicas, 2);
    assert.equal(r.client.object<ReplicaSet>(REPLICASETS, "default", "front")?.status?.replicas, 1);
  });

  test("an RC with an empty selector is not synced", async () => {
    const r = rig();
    const controller = new ReplicaSetController(r.ctx, REPLICATION_CONTROLLER_KIND);
    r.client.seed(REPLICATIONCONTROLLERS, rc("bad", 2, {}));
    r.client.seed(PODS, orphan("stray", { app: "web" }));
    await r.start();
    await controller.sync("default/bad");
    assert.equal(r.client.actionsOf("create", PODS).length, 0);
    assert.equal(r.client.object<Pod>(PODS, "default", "stray")?.metadata.ownerReferences, undefined);
  });
});
