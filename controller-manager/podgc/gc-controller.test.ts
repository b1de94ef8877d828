import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { NODES, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Node, Pod } from "#pkg/api/types/core.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/index.js";
import {
  PodGCController,
  type PodGCOptions,
  terminatedPodsToDelete,
  terminatingPodsOnOutOfServiceNodes,
  unscheduledTerminatingPods,
} from "./gc-controller.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");

function pod(
  name: string,
  o: { phase?: string; created?: number; node?: string; reason?: string; deleting?: boolean } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      creationTimestamp: metaTime(o.created ?? T0),
      ...(o.deleting ? { deletionTimestamp: metaTime(T0), deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: { containers: [{ name: "c", image: "busybox" }], ...(o.node ? { nodeName: o.node } : {}) },
    status: { phase: o.phase ?? "Running", ...(o.reason ? { reason: o.reason } : {}) },
  };
}

function node(name: string, ready: string, taints: Node["spec"] = {}): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-${name}` },
    spec: taints,
    status: { conditions: [{ type: "Ready", status: ready }] },
  };
}

describe("pod GC selection", () => {
  test("terminated pods over the threshold: evicted first, then oldest, then by name", () => {
    const pods = [
      pod("new", { phase: "Succeeded", created: T0 + 3_000 }),
      pod("running", { phase: "Running", created: T0 }),
      pod("old-b", { phase: "Failed", created: T0 + 1_000 }),
      pod("old-a", { phase: "Succeeded", created: T0 + 1_000 }),
      pod("evicted", { phase: "Failed", reason: "Evicted", created: T0 + 9_000 }),
      pod("pending", { phase: "Pending", created: T0 - 5_000 }),
    ];
    const names = (ps: Pod[]) => ps.map((p) => p.metadata.name);
    assert.deepEqual(names(terminatedPodsToDelete(pods, 1)), ["evicted", "old-a", "old-b"]);
    assert.deepEqual(names(terminatedPodsToDelete(pods, 4)), []);
    assert.deepEqual(names(terminatedPodsToDelete(pods, 0)), [], "0 turns it off");
  });

  test("terminating pods: on a not-Ready out-of-service node, and never bound", () => {
    const nodes = new Map([
      [
        "down",
        node("down", "Unknown", { taints: [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }] }),
      ],
      [
        "unreachable",
        node("unreachable", "Unknown", { taints: [{ key: "node.kubernetes.io/unreachable", effect: "NoExecute" }] }),
      ],
      ["up", node("up", "True", { taints: [{ key: "node.kubernetes.io/out-of-service", effect: "NoExecute" }] })],
    ]);
    const pods = [
      pod("a", { node: "down", deleting: true }),
      pod("b", { node: "down" }),
      pod("c", { node: "unreachable", deleting: true }),
      pod("d", { node: "up", deleting: true }),
      pod("e", { deleting: true }),
    ];
    assert.deepEqual(
      terminatingPodsOnOutOfServiceNodes(pods, (n) => nodes.get(n)).map((p) => p.metadata.name),
      ["a"],
    );
    assert.deepEqual(
      unscheduledTerminatingPods(pods).map((p) => p.metadata.name),
      ["e"],
    );
  });
});

afterEach(abortFakeContexts);

async function rig(o: PodGCOptions) {
  const clock = new FakeClock(T0);
  const ctx = fakeControllerContext({ clock });
  const { client, informers } = ctx;
  const c = new PodGCController(ctx, o);
  const podInformer = informers.informer(PODS);
  informers.informer(NODES);
  await ctx.start();
  const synced = async (n: number) => {
    for (let i = 0; i < 1000 && podInformer.list().length !== n; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(podInformer.list().length, n);
  };
  const names = async () => (await client.list(PODS, "default")).items.map((p) => p.metadata.name).sort();
  return { clock, client, c, synced, names };
}

describe("pod GC controller", () => {
  test("orphans: force-deleted (Failed, DisruptionTarget) after the quarantine and a live GET", async () => {
    const r = await rig({ quarantineMs: 40_000 });
    r.client.seed(NODES, node("alive", "True"));
    r.client.seed(PODS, pod("orphan", { node: "gone" }), pod("kept", { node: "alive" }));
    await r.synced(2);
    await r.c.gc();
    assert.deepEqual(await r.names(), ["kept", "orphan"], "quarantined first");
    r.clock.step(40_000);
    await r.c.gc();
    assert.deepEqual(await r.names(), ["kept"]);
    const status = r.client.actionsOf("update", PODS).find((a) => a.name === "orphan")?.object as Pod;
    assert.equal(status.status?.phase, "Failed");
    const cond = status.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    assert.equal(cond?.reason, "DeletionByPodGC");
    assert.equal(cond?.message, "PodGC: node no longer exists");
    assert.ok(
      r.client.actionsOf("get", NODES).some((a) => a.name === "gone"),
      "checked with a live GET",
    );
  });

  test("a node the cache missed but the API server has keeps its pods", async () => {
    const r = await rig({ quarantineMs: 1_000 });
    r.client.seed(PODS, pod("p", { node: "late" }));
    await r.synced(1);
    await r.c.gc();
    // Created behind the cache's back (the informer does see it, but not before this pass runs).
    r.clock.step(1_000);
    r.client.seed(NODES, node("late", "True"));
    await r.c.gc();
    assert.deepEqual(await r.names(), ["p"]);
  });

  test("terminated pods over --terminated-pod-gc-threshold go, oldest first; unbound terminating pods go", async () => {
    const r = await rig({ terminatedPodGCThreshold: 2 });
    r.client.seed(
      PODS,
      pod("t1", { phase: "Succeeded", created: T0 + 1_000 }),
      pod("t2", { phase: "Failed", created: T0 + 2_000 }),
      pod("t3", { phase: "Succeeded", created: T0 + 3_000 }),
      pod("t4", { phase: "Succeeded", created: T0 + 4_000 }),
      pod("run", { phase: "Running", created: T0 }),
      pod("unbound", { phase: "Pending", deleting: true }),
    );
    await r.synced(6);
    await r.c.gc();
    assert.deepEqual(await r.names(), ["run", "t3", "t4"]);
    const deletes = r.client.actionsOf("delete", PODS).map((a) => a.name);
    assert.deepEqual(deletes.sort(), ["t1", "t2", "unbound"]);
  });
});
