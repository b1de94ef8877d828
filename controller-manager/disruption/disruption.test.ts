import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { KubeObject, OwnerReference } from "#pkg/api/meta.js";
import {
  DAEMONSETS,
  DEPLOYMENTS,
  PODDISRUPTIONBUDGETS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  STATEFULSETS,
} from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PodDisruptionBudget } from "#pkg/api/types/policy.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { DisruptionController, STALE_POD_DISRUPTION_TIMEOUT_MS } from "./disruption.js";

const NS = "default";
afterEach(abortFakeContexts);

function rig() {
  const clock = new FakeClock(Date.parse("2024-05-01T12:00:00Z"));
  const ctx = fakeControllerContext({ clock });
  const { client, informers } = ctx;
  const controller = new DisruptionController(ctx);
  return {
    client,
    recorder: ctx.events,
    clock,
    controller,
    /** Resolves once the controller's budget cache holds what the fake API server stores. */
    async cacheCaughtUp(name: string) {
      const want = client.object(PODDISRUPTIONBUDGETS, NS, name)?.metadata.resourceVersion;
      const inf = informers.informer(PODDISRUPTIONBUDGETS);
      const deadline = Date.now() + 10_000;
      while (inf.get(`${NS}/${name}`)?.metadata.resourceVersion !== want && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 2));
      }
      assert.equal(inf.get(`${NS}/${name}`)?.metadata.resourceVersion, want, "budget cache caught up");
    },
    async start() {
      await ctx.start();
    },
  };
}

const ref = (apiVersion: string, kind: string, name: string): OwnerReference => ({
  apiVersion,
  kind,
  name,
  uid: `uid-${name}`,
  controller: true,
});

function owner<T extends KubeObject>(
  apiVersion: string,
  kind: string,
  name: string,
  replicas: number,
  o: { owner?: OwnerReference } = {},
): T {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: NS, uid: `uid-${name}`, ...(o.owner ? { ownerReferences: [o.owner] } : {}) },
    spec: { replicas, selector: { matchLabels: { app: "web" } } },
  } as unknown as T;
}

function pod(name: string, o: { owner?: OwnerReference; ready?: boolean; conditions?: unknown[] } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels: { app: "web" },
      ...(o.owner ? { ownerReferences: [o.owner] } : {}),
    },
    spec: { containers: [{ name: "c", image: "busybox" }] },
    status: {
      phase: "Running",
      conditions: (o.conditions as NonNullable<Pod["status"]>["conditions"]) ?? [
        { type: "Ready", status: o.ready === false ? "False" : "True" },
      ],
    },
  };
}

function budget(spec: Partial<NonNullable<PodDisruptionBudget["spec"]>>): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "b", namespace: NS, uid: "uid-b", generation: 1 },
    spec: { selector: { matchLabels: { app: "web" } }, ...spec },
    status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  };
}

const statusOf = (client: FakeClient) => client.object<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, "b")?.status;

describe("DisruptionController", () => {
  test("a Deployment's pods: expected from the Deployment's replicas, maxUnavailable rounded up", async () => {
    const r = rig();
    r.client.seed(DEPLOYMENTS, owner("apps/v1", "Deployment", "web", 3));
    r.client.seed(
      REPLICASETS,
      owner("apps/v1", "ReplicaSet", "web-1", 3, { owner: ref("apps/v1", "Deployment", "web") }),
    );
    const rsRef = ref("apps/v1", "ReplicaSet", "web-1");
    r.client.seed(
      PODS,
      pod("a", { owner: rsRef }),
      pod("b", { owner: rsRef }),
      pod("c", { owner: rsRef, ready: false }),
    );
    r.client.seed(PODDISRUPTIONBUDGETS, budget({ maxUnavailable: "34%" }));
    await r.start();
    await r.controller.sync(`${NS}/b`);
    const s = statusOf(r.client);
    // 34% of 3 rounds up to 2 unavailable: 1 must stay healthy, 2 are.
    assert.deepEqual(
      [s?.expectedPods, s?.desiredHealthy, s?.currentHealthy, s?.disruptionsAllowed, s?.observedGeneration],
      [3, 1, 2, 1, 1],
    );
    const cond = s?.conditions?.find((c) => c.type === "DisruptionAllowed");
    assert.deepEqual([cond?.status, cond?.reason], ["True", "SufficientPods"]);
  });

  test("a percentage minAvailable over a ReplicaSet and a StatefulSet adds up their scales", async () => {
    const r = rig();
    r.client.seed(REPLICASETS, owner("apps/v1", "ReplicaSet", "rs", 2));
    r.client.seed(STATEFULSETS, owner("apps/v1", "StatefulSet", "ss", 3));
    r.client.seed(
      PODS,
      pod("r0", { owner: ref("apps/v1", "ReplicaSet", "rs") }),
      pod("r1", { owner: ref("apps/v1", "ReplicaSet", "rs") }),
      pod("s0", { owner: ref("apps/v1", "StatefulSet", "ss") }),
    );
    r.client.seed(PODDISRUPTIONBUDGETS, budget({ minAvailable: "50%" }));
    await r.start();
    await r.controller.sync(`${NS}/b`);
    const s = statusOf(r.client);
    // 50% of 5 rounds up to 3, 3 are healthy: nothing may go.
    assert.deepEqual([s?.expectedPods, s?.desiredHealthy, s?.currentHealthy, s?.disruptionsAllowed], [5, 3, 3, 0]);
    assert.equal(s?.conditions?.[0]?.reason, "InsufficientPods");
  });

  test("a ReplicationController's pods: expected from its replicas", async () => {
    const r = rig();
    r.client.seed(REPLICATIONCONTROLLERS, owner("v1", "ReplicationController", "rc", 4));
    const rcRef = ref("v1", "ReplicationController", "rc");
    r.client.seed(PODS, pod("a", { owner: rcRef }), pod("b", { owner: rcRef }), pod("c", { owner: rcRef }));
    r.client.seed(PODDISRUPTIONBUDGETS, budget({ minAvailable: "50%" }));
    await r.start();
    await r.controller.sync(`${NS}/b`);
    const s = statusOf(r.client);
    assert.deepEqual([s?.expectedPods, s?.desiredHealthy, s?.currentHealthy, s?.disruptionsAllowed], [4, 2, 3, 1]);
  });

  test("an integer minAvailable counts the pods, unmanaged ones included", async () => {
    const r = rig();
    r.client.seed(PODS, pod("a"), pod("b"), pod("c"));
    r.client.seed(PODDISRUPTIONBUDGETS, budget({ minAvailable: 1 }));
    await r.start();
    await r.controller.sync(`${NS}/b`);
    const s = statusOf(r.client);
    assert.deepEqual([s?.expectedPods, s?.desiredHealthy, s?.currentHealthy, s?.disruptionsAllowed], [3, 1, 3, 2]);
    assert.deepEqual(r.recorder.reasons(), []);
  });

  test("a controller without a scale subresource fails the budget safe (SyncFailed)", async () => {
    const r = rig();
    r.client.seed(DAEMONSETS, owner("apps/v1", "DaemonSet", "ds", 0));
    r.client.seed(PODS, pod("a", { owner: ref("apps/v1", "DaemonSet", "ds") }));
    const b = budget({ maxUnavailable: 1 });
    b.status = { disruptionsAllowed: 4, currentHealthy: 5, desiredHealthy: 1, expectedPods: 5, observedGeneration: 1 };
    r.client.seed(PODDISRUPTIONBUDGETS, b);
    await r.start();
    await r.controller.sync(`${NS}/b`);
    const s = statusOf(r.client);
    assert.equal(s?.disruptionsAllowed, 0);
    const cond = s?.conditions?.find((c) => c.type === "DisruptionAllowed");
    assert.deepEqual(
      [cond?.status, cond?.reason, cond?.message],
      ["False", "SyncFailed", "daemonsets.apps does not implement the scale subresource"],
    );
    assert.deepEqual(r.recorder.reasons(`${NS}/b`), ["CalculateExpectedPodCountFailed"]);
  });

  test("unmanaged pods under a percentage are reported; no pods at all is a Normal event", async () => {
    const r = rig();
    r.client.seed(PODS, pod("a"));
    r.client.seed(PODDISRUPTIONBUDGETS, budget({ maxUnavailable: "50%" }));
    await r.start();
    await r.controller.sync(`${NS}/b`);
    assert.deepEqual(r.recorder.reasons(`${NS}/b`), ["UnmanagedPods"]);
    assert.equal(statusOf(r.client)?.expectedPods, 0);

    const e = rig();
    e.client.seed(PODDISRUPTIONBUDGETS, budget({ minAvailable: 1 }));
    await e.start();
    await e.controller.sync(`${NS}/b`);
    assert.deepEqual(e.recorder.reasons(`${NS}/b`), ["NoPods"]);
  });

  test("an admitted eviction keeps its pod out of the healthy count until it lands or times out", async () => {
    const r = rig();
    r.client.seed(PODS, pod("a"), pod("b"));
    const b = budget({ minAvailable: 1 });
    b.status = {
      disruptionsAllowed: 0,
      currentHealthy: 2,
      desiredHealthy: 1,
      expectedPods: 2,
      observedGeneration: 1,
      disruptedPods: { a: metaTime(r.clock.now() - 1000) },
    };
    r.client.seed(PODDISRUPTIONBUDGETS, b);
    await r.start();
    await r.controller.sync(`${NS}/b`);
    let s = statusOf(r.client);
    assert.deepEqual([s?.currentHealthy, s?.disruptionsAllowed], [1, 0]);
    assert.deepEqual(Object.keys(s?.disruptedPods ?? {}), ["a"]);
    // Two minutes on, the eviction never showed: the pod counts again, with a NotDeleted event.
    r.clock.step(2 * 60_000);
    await r.cacheCaughtUp("b");
    await r.controller.sync(`${NS}/b`);
    s = statusOf(r.client);
    assert.deepEqual([s?.currentHealthy, s?.disruptionsAllowed, s?.disruptedPods], [2, 1, undefined]);
    assert.deepEqual(r.recorder.reasons(`${NS}/a`), ["NotDeleted"]);
  });

  test("a stale DisruptionTarget condition on a pod that was not deleted is reset to False", async () => {
    const r = rig();
    const since = metaTime(Date.parse("2024-05-01T11:59:00Z"));
    r.client.seed(
      PODS,
      pod("a", {
        conditions: [
          { type: "Ready", status: "True" },
          { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI", lastTransitionTime: since },
        ],
      }),
    );
    await r.start();
    await r.controller.syncStalePodDisruption(`${NS}/a`);
    assert.equal(r.client.actionsOf("update", PODS).length, 0, "not stale yet");
    r.clock.step(STALE_POD_DISRUPTION_TIMEOUT_MS);
    await r.controller.syncStalePodDisruption(`${NS}/a`);
    const cond = r.client.object<Pod>(PODS, NS, "a")?.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    assert.equal(cond?.status, "False");
  });
});
