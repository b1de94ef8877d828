import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { PODS, STATEFULSETS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { StatefulSet } from "#pkg/api/types/apps.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { waitFor } from "../../test/harness/wait.js";
import { StatefulSetController } from "./statefulset-controller.js";

afterEach(abortFakeContexts);

function statefulSet(replicas: number, maxUnavailable?: number | string): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default", uid: "uid-web", generation: 1 },
    spec: {
      replicas,
      serviceName: "nginx",
      podManagementPolicy: "OrderedReady",
      selector: { matchLabels: { app: "web" } },
      updateStrategy: {
        type: "RollingUpdate",
        rollingUpdate: { partition: 0, ...(maxUnavailable !== undefined ? { maxUnavailable } : {}) },
      },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      },
    },
  };
}

function rig() {
  const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
  const ctx = fakeControllerContext({ clock });
  const controller = new StatefulSetController(ctx);
  return { ctx, client: ctx.client, controller, clock };
}
type Rig = ReturnType<typeof rig>;

const podsOf = async (client: FakeClient) =>
  new Map((await client.list(PODS, "default")).items.map((p) => [p.metadata.name ?? "", p]));

/** The test's kubelet: every pod without a phase becomes Running and Ready. */
async function runPods(r: Rig): Promise<string[]> {
  const started: string[] = [];
  for (const p of (await podsOf(r.client)).values()) {
    if (p.status?.phase) continue;
    p.status = {
      phase: "Running",
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: metaTime(r.clock.now()) }],
    };
    await r.client.update(PODS, "default", p, { subresource: "status" });
    started.push(p.metadata.name ?? "");
  }
  return started;
}

/** Waits until the controller's caches hold what the fake API server holds, then syncs once. */
async function syncCaught(r: Rig): Promise<void> {
  const pods = r.ctx.informers.informer(PODS);
  const sets = r.ctx.informers.informer(STATEFULSETS);
  await waitFor(
    async () => {
      const stored = (await r.client.list(PODS, "default")).items;
      const set = r.client.object<StatefulSet>(STATEFULSETS, "default", "web");
      return (
        pods.list().length === stored.length &&
        stored.every(
          (p) => pods.get(`default/${p.metadata.name}`)?.metadata.resourceVersion === p.metadata.resourceVersion,
        ) &&
        sets.get("default/web")?.metadata.resourceVersion === set?.metadata.resourceVersion
      );
    },
    { intervalMs: 5, message: "the controller's caches to hold the fake API server's pods and set" },
  );
  await r.controller.sync("default/web");
}

/** Syncs and runs pods until every replica exists and runs. */
async function rollOut(r: Rig, replicas: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await syncCaught(r);
    await runPods(r);
    const pods = [...(await podsOf(r.client)).values()];
    if (pods.length === replicas && pods.every((p) => p.status?.phase === "Running")) return;
  }
  assert.fail("the set did not roll out");
}

async function setImage(r: Rig, image: string): Promise<void> {
  const set = r.client.object<StatefulSet>(STATEFULSETS, "default", "web") as StatefulSet;
  const c = set.spec?.template.spec?.containers[0];
  if (c) c.image = image;
  set.metadata.generation = (set.metadata.generation ?? 1) + 1;
  await r.client.update(STATEFULSETS, "default", set);
}

const deletedPods = (r: Rig) =>
  r.client
    .actionsOf("delete", PODS)
    .map((a) => a.name)
    .filter((n): n is string => n !== undefined);

/**
 * Rolls the set to a new image and returns the pods each sync deleted, in order: one list per
 * sync that deleted something.
 */
async function rollingUpdate(r: Rig): Promise<string[][]> {
  await setImage(r, "busybox:v2");
  const rounds: string[][] = [];
  for (let i = 0; i < 50; i++) {
    const before = deletedPods(r).length;
    await syncCaught(r);
    const now = deletedPods(r);
    if (now.length > before) rounds.push(now.slice(before));
    await runPods(r);
    const pods = [...(await podsOf(r.client)).values()];
    if (pods.length === 4 && pods.every((p) => p.spec?.containers[0]?.image === "busybox:v2" && p.status?.phase))
      return rounds;
  }
  assert.fail("the rolling update did not finish");
}

describe("StatefulSetController RollingUpdate maxUnavailable", () => {
  test("maxUnavailable 2: two pods, highest ordinals first, are replaced at once", async () => {
    const r = rig();
    r.client.seed(STATEFULSETS, statefulSet(4, 2));
    await r.ctx.start();
    await rollOut(r, 4);
    const rounds = await rollingUpdate(r);
    assert.deepEqual(rounds, [
      ["web-3", "web-2"],
      ["web-1", "web-0"],
    ]);
  });

  test("maxUnavailable 1 (the default): one pod at a time", async () => {
    const r = rig();
    r.client.seed(STATEFULSETS, statefulSet(4));
    await r.ctx.start();
    await rollOut(r, 4);
    assert.deepEqual(await rollingUpdate(r), [["web-3"], ["web-2"], ["web-1"], ["web-0"]]);
  });

  test("a percentage rounds down, as upstream (50% of 4 is 2; 40% of 4 is 1)", async () => {
    const half = rig();
    half.client.seed(STATEFULSETS, statefulSet(4, "50%"));
    await half.ctx.start();
    await rollOut(half, 4);
    assert.deepEqual(await rollingUpdate(half), [
      ["web-3", "web-2"],
      ["web-1", "web-0"],
    ]);
    abortFakeContexts();

    const forty = rig();
    forty.client.seed(STATEFULSETS, statefulSet(4, "40%"));
    await forty.ctx.start();
    await rollOut(forty, 4);
    assert.deepEqual(await rollingUpdate(forty), [["web-3"], ["web-2"], ["web-1"], ["web-0"]]);
  });
});
