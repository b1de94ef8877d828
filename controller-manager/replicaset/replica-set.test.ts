import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { forbidden } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { PODS, REPLICASETS, type ResourceType } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { InformerFactory } from "#pkg/cache/factory.js";
import type { CreateOptions } from "#pkg/client/client.js";
import { compareForDeletion } from "#pkg/controller/pod-util.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, FakeClient, type FakeRecorder, fakeControllerContext } from "#pkg/testing/index.js";
import { REPLICA_FAILURE, REPLICA_SET_KIND, ReplicaSetController, slowStartBatch } from "./replica-set.js";

const LABELS = { app: "web" };

function replicaSet(name: string, replicas: number, extra: Partial<ReplicaSet["spec"]> = {}): ReplicaSet {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace: "default", uid: `uid-${name}`, generation: 3 },
    spec: {
      replicas,
      selector: { matchLabels: LABELS },
      template: {
        metadata: { labels: { ...LABELS, tier: "front" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
      ...extra,
    },
  };
}

function pod(
  name: string,
  o: {
    owner?: ReplicaSet;
    labels?: Record<string, string>;
    status?: Pod["status"];
    node?: string;
    created?: number;
  } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      labels: o.labels ?? { ...LABELS, tier: "front" },
      creationTimestamp: metaTime(o.created ?? 1_000_000),
      ...(o.owner
        ? {
            ownerReferences: [
              {
                apiVersion: "apps/v1",
                kind: "ReplicaSet",
                name: o.owner.metadata.name ?? "",
                uid: o.owner.metadata.uid ?? "",
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          }
        : {}),
    },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(o.node ? { nodeName: o.node } : {}) },
    status: o.status ?? { phase: "Pending" },
  };
}

const ready = (since: number): Pod["status"] => ({
  phase: "Running",
  conditions: [{ type: "Ready", status: "True", lastTransitionTime: metaTime(since) }],
});

/** A FakeClient whose pod creates can be made to fail. */
class FailingClient extends FakeClient {
  failCreates = false;
  override async create<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: object,
    opts: CreateOptions = {},
  ): Promise<T> {
    if (this.failCreates && r === (PODS as unknown as ResourceType<T>))
      throw forbidden('pods "web-" is forbidden: exceeded quota');
    return super.create(r, ns, obj, opts);
  }
}

interface Rig {
  client: FailingClient;
  recorder: FakeRecorder;
  controller: ReplicaSetController;
  factory: InformerFactory;
  clock: FakeClock | undefined;
  startInformers(): AbortSignal;
  start(): Promise<void>;
}

afterEach(abortFakeContexts);

function rig(o: { clock?: FakeClock } = {}): Rig {
  const ctx = fakeControllerContext({ client: new FailingClient(), ...(o.clock ? { clock: o.clock } : {}) });
  const controller = new ReplicaSetController(ctx, REPLICA_SET_KIND);
  return {
    client: ctx.client,
    recorder: ctx.events,
    controller,
    factory: ctx.informers,
    clock: o.clock,
    startInformers: ctx.startInformers,
    async start() {
      await ctx.start();
    },
  };
}

const podsOf = (client: FakeClient) => client.list(PODS, "default").then((l) => l.items);

/** Syncs until nothing changes: lets the informers catch up between syncs, as the queue would. */
async function settle(r: Rig, key: string): Promise<void> {
  // Done when a sync with met expectations changes nothing (bounded, for a loaded machine).
  for (let i = 0; i < 500; i++) {
    await new Promise((res) => setTimeout(res, 5));
    const before = r.client.actions.filter((a) => a.verb !== "get").length;
    const satisfied = r.controller.expectations.satisfied(key);
    await r.controller.sync(key);
    if (satisfied && r.client.actions.filter((a) => a.verb !== "get").length === before) return;
  }
  assert.fail(`${key} did not settle`);
}

describe("slowStartBatch", () => {
  test("runs batches of 1, 2, 4, ... and stops after the first batch with an error", async () => {
    let calls = 0;
    const res = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls === 5) throw new Error("boom");
    });
    assert.equal(calls, 7); // 1 + 2 + 4, the batch of 4 held the failure
    assert.equal(res.successes, 6);
    assert.equal((res.error as Error).message, "boom");
    let all = 0;
    assert.deepEqual(await slowStartBatch(10, 1, async () => void all++), { successes: 10 });
    assert.equal(all, 10);
  });
});

describe("ReplicaSetController", () => {
  test("scales up with owned pods from the template, and records SuccessfulCreate", async () => {
    const r = rig();
    const rs = replicaSet("web", 3);
    r.client.seed(REPLICASETS, rs);
    await r.start();
    await settle(r, "default/web");
    const pods = await podsOf(r.client);
    assert.equal(pods.length, 3);
    assert.equal(r.client.actionsOf("create", PODS).length, 3);
    for (const p of pods) {
      assert.equal(p.metadata.generateName, "web-");
      assert.deepEqual(p.metadata.labels, { app: "web", tier: "front" });
      assert.deepEqual(p.metadata.ownerReferences, [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web",
          uid: "uid-web",
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    assert.deepEqual(r.recorder.reasons("default/web"), ["SuccessfulCreate", "SuccessfulCreate", "SuccessfulCreate"]);
    const status = r.client.object<ReplicaSet>(REPLICASETS, "default", "web")?.status;
    assert.equal(status?.replicas, 3);
    assert.equal(status?.fullyLabeledReplicas, 3);
    assert.equal(status?.observedGeneration, 3);
  });

  test("expectations prevent double creates while the pod informer lags", async () => {
    const clock = new FakeClock();
    const r = rig({ clock });
    // Informers never started: the controller's caches see the RS but never its new pods.
    const rs = replicaSet("web", 2);
    r.client.seed(REPLICASETS, rs);
    const cached = await r.client.get(REPLICASETS, "default", "web");
    r.factory.informer(REPLICASETS).store.upsert(cached);
    await r.controller.sync("default/web");
    assert.equal(r.client.actionsOf("create", PODS).length, 2);
    await r.controller.sync("default/web");
    await r.controller.sync("default/web");
    assert.equal(r.client.actionsOf("create", PODS).length, 2, "no new creates until the informer reports them");
    assert.deepEqual(r.controller.expectations.pending("default/web"), { add: 2, del: 0 });
    // An informer that lost events: after the expectations' TTL the controller acts again.
    clock.step(5 * 60_000 + 1);
    await r.controller.sync("default/web");
    assert.equal(r.client.actionsOf("create", PODS).length, 4);
  });

  test("the informer observing the creates satisfies the expectations", async () => {
    const r = rig();
    r.client.seed(REPLICASETS, replicaSet("web", 4));
    await r.start();
    await r.controller.sync("default/web");
    for (let i = 0; i < 500 && !r.controller.expectations.satisfied("default/web"); i++)
      await new Promise((res) => setTimeout(res, 5));
    assert.equal(r.controller.expectations.satisfied("default/web"), true);
    await r.controller.sync("default/web");
    assert.equal(r.client.actionsOf("create", PODS).length, 4);
  });

  test("scales down in upstream's order: unscheduled, pending, not ready, ready for less time", async () => {
    const r = rig();
    const rs = replicaSet("web", 2);
    r.client.seed(REPLICASETS, rs);
    r.client.seed(
      PODS,
      pod("ready-old", { owner: rs, node: "n1", status: ready(1_000) }),
      pod("ready-new", { owner: rs, node: "n2", status: ready(5_000) }),
      pod("unscheduled", { owner: rs }),
      pod("pending", { owner: rs, node: "n3", status: { phase: "Pending" } }),
      pod("running-not-ready", { owner: rs, node: "n4", status: { phase: "Running" } }),
    );
    await r.start();
    await r.controller.sync("default/web");
    assert.deepEqual(
      r.client
        .actionsOf("delete", PODS)
        .map((a) => a.name)
        .sort(),
      ["pending", "running-not-ready", "unscheduled"],
    );
    assert.deepEqual(r.recorder.reasons(), ["SuccessfulDelete", "SuccessfulDelete", "SuccessfulDelete"]);
    await settle(r, "default/web");
    assert.deepEqual((await podsOf(r.client)).map((p) => p.metadata.name).sort(), ["ready-new", "ready-old"]);
    // The whole order, most deletable first.
    const order = [
      pod("ready-old", { node: "n1", status: ready(1_000) }),
      pod("running-not-ready", { node: "n4", status: { phase: "Running" } }),
      pod("ready-new", { node: "n2", status: ready(5_000) }),
      pod("pending", { node: "n3", status: { phase: "Pending" } }),
      pod("unscheduled", {}),
    ].sort((x, y) => compareForDeletion(x, y));
    assert.deepEqual(
      order.map((p) => p.metadata.name),
      ["unscheduled", "pending", "running-not-ready", "ready-new", "ready-old"],
    );
  });

  test("adopts matching orphans and releases owned pods whose labels stop matching", async () => {
    const r = rig();
    const rs = replicaSet("web", 2);
    r.client.seed(REPLICASETS, rs);
    r.client.seed(
      PODS,
      pod("orphan", {}),
      pod("mine", { owner: rs }),
      pod("relabeled", { owner: rs, labels: { app: "other" } }),
      pod("stranger", { labels: { app: "other" } }),
    );
    await r.start();
    await r.controller.sync("default/web");
    const orphan = r.client.object<Pod>(PODS, "default", "orphan");
    assert.equal(orphan?.metadata.ownerReferences?.[0]?.uid, "uid-web");
    assert.equal(orphan?.metadata.ownerReferences?.[0]?.controller, true);
    assert.deepEqual(r.client.object<Pod>(PODS, "default", "relabeled")?.metadata.ownerReferences, []);
    assert.equal(r.client.object<Pod>(PODS, "default", "stranger")?.metadata.ownerReferences, undefined);
    // Adopting checked the ReplicaSet fresh from the API server first.
    assert.ok(r.client.actionsOf("get", REPLICASETS).length >= 1);
    assert.equal(r.client.actionsOf("create", PODS).length, 0, "2 owned after claiming: nothing to create");
    assert.equal(r.client.object<ReplicaSet>(REPLICASETS, "default", "web")?.status?.replicas, 2);
  });

  test("does not adopt for a ReplicaSet that is being deleted", async () => {
    const r = rig();
    const rs = replicaSet("web", 2);
    rs.metadata.deletionTimestamp = metaTime(0);
    rs.metadata.finalizers = ["foregroundDeletion"];
    r.client.seed(REPLICASETS, rs);
    r.client.seed(PODS, pod("orphan", {}));
    await r.start();
    await r.controller.sync("default/web");
    assert.equal(r.client.object<Pod>(PODS, "default", "orphan")?.metadata.ownerReferences, undefined);
    assert.equal(r.client.actionsOf("create", PODS).length, 0);
  });

  test("status counts ready, available (minReadySeconds) and fully labeled replicas", async () => {
    const clock = new FakeClock(100_000);
    const r = rig({ clock });
    const rs = replicaSet("web", 3, { minReadySeconds: 10 });
    r.client.seed(REPLICASETS, rs);
    r.client.seed(
      PODS,
      pod("long-ready", { owner: rs, node: "n", status: ready(50_000) }),
      pod("just-ready", { owner: rs, node: "n", status: ready(95_000) }),
      pod("partial-labels", { owner: rs, labels: { app: "web" } }),
      pod("done", { owner: rs, status: { phase: "Succeeded" } }),
    );
    await r.start();
    await r.controller.sync("default/web");
    const status = r.client.object<ReplicaSet>(REPLICASETS, "default", "web")?.status;
    assert.deepEqual(
      { ...status },
      { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1, observedGeneration: 3 },
    );
    assert.equal(r.client.actionsOf("create", PODS).length, 0, "a Succeeded pod does not count, 3 active remain");
  });

  test("FailedCreate: one attempt per sync, a Warning event and the ReplicaFailure condition, cleared on success", async () => {
    const r = rig();
    r.client.failCreates = true;
    r.client.seed(REPLICASETS, replicaSet("web", 5));
    await r.start();
    await assert.rejects(r.controller.sync("default/web"), /exceeded quota/);
    assert.deepEqual(r.recorder.reasons(), ["FailedCreate"], "slow start stops after the failing first batch");
    assert.match(r.recorder.events[0]?.message ?? "", /^Error creating: pods "web-" is forbidden: exceeded quota/);
    assert.equal(r.recorder.events[0]?.type, "Warning");
    assert.equal(r.controller.expectations.satisfied("default/web"), true, "failed creates are not expected");
    const cond = r.client.object<ReplicaSet>(REPLICASETS, "default", "web")?.status?.conditions?.[0];
    assert.equal(cond?.type, REPLICA_FAILURE);
    assert.equal(cond?.status, "True");
    assert.equal(cond?.reason, "FailedCreate");
    r.client.failCreates = false;
    await settle(r, "default/web");
    const status = r.client.object<ReplicaSet>(REPLICASETS, "default", "web")?.status;
    assert.equal(status?.replicas, 5);
    assert.equal(status?.conditions, undefined);
  });

  test("run: the queue drives syncs from informer events; a deleted pod is replaced", async () => {
    const r = rig();
    r.client.seed(REPLICASETS, replicaSet("web", 2));
    const done = r.controller.run(r.startInformers(), 2);
    const until = async (fn: () => Promise<boolean>) => {
      for (let i = 0; i < 500 && !(await fn()); i++) await new Promise((res) => setTimeout(res, 10));
      assert.ok(await fn());
    };
    await until(async () => (await podsOf(r.client)).length === 2);
    const [first] = await podsOf(r.client);
    await r.client.delete(PODS, "default", first?.metadata.name ?? "");
    await until(async () => (await podsOf(r.client)).length === 2 && r.client.actionsOf("create", PODS).length === 3);
    abortFakeContexts();
    await done;
  });
});
