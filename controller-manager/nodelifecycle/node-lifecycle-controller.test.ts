import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { LEASES, NODES, PODS } from "#pkg/api/resources.js";
import { metaTime, microTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Node, Pod, Taint } from "#pkg/api/types/core.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/index.js";
import { NodeLifecycleController, type NodeLifecycleOptions } from "./node-lifecycle-controller.js";

afterEach(abortFakeContexts);

function readyNode(name: string, heartbeat: number, status = "True"): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-${name}`, creationTimestamp: metaTime(heartbeat - 3_600_000) },
    spec: {},
    status: {
      conditions: [
        {
          type: "Ready",
          status,
          reason: status === "True" ? "KubeletReady" : "KubeletNotReady",
          message: "kubelet says so",
          lastHeartbeatTime: metaTime(heartbeat),
          lastTransitionTime: metaTime(heartbeat - 3_600_000),
        },
      ],
    },
  };
}

function lease(name: string, renew: number): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "kube-node-lease" },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(renew) },
  };
}

function readyPod(name: string, node: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { nodeName: node, containers: [{ name: "c", image: "busybox" }] },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  };
}

async function eventually<T>(fn: () => T | undefined | false, what: string): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function rig(nodes: string[], o: NodeLifecycleOptions = {}) {
  const clock = new FakeClock();
  const ctx = fakeControllerContext({ clock });
  const { client, informers, events: recorder } = ctx;
  for (const n of nodes) {
    client.seed(NODES, readyNode(n, clock.now()));
    client.seed(LEASES, lease(n, clock.now()));
  }
  const c = new NodeLifecycleController(ctx, { nodeMonitorGracePeriodMs: 40_000, ...o });
  const nodeInformer = informers.informer(NODES);
  const leaseInformer = informers.informer(LEASES, { namespace: "kube-node-lease" });
  await ctx.start();

  const node = (name: string) => client.object<Node>(NODES, undefined, name) as Node;
  /** Waits until the controller's caches hold what the fake API server holds. */
  const synced = () =>
    eventually(
      () =>
        nodeInformer
          .list()
          .every((n) => n.metadata.resourceVersion === node(n.metadata.name ?? "").metadata.resourceVersion) &&
        leaseInformer
          .list()
          .every(
            (l) =>
              l.metadata.resourceVersion ===
              client.object<Lease>(LEASES, "kube-node-lease", l.metadata.name ?? "")?.metadata.resourceVersion,
          ),
      "informers to catch up",
    );
  const renew = async (...names: string[]) => {
    for (const name of names) {
      const l = client.object<Lease>(LEASES, "kube-node-lease", name) as Lease;
      await client.update(LEASES, "kube-node-lease", { ...l, spec: { ...l.spec, renewTime: microTime(clock.now()) } });
    }
  };
  /** What a kubelet that is back does: Ready=True with a fresh heartbeat, and a renewed Lease. */
  const kubeletPosts = async (name: string, status = "True") => {
    const cur = node(name);
    const fresh = readyNode(name, clock.now(), status);
    await client.update(NODES, undefined, { ...cur, status: fresh.status }, { subresource: "status" });
    await renew(name);
  };
  const pass = async () => {
    await synced();
    await c.monitorNodeHealth();
    await synced();
  };
  const taints = (name: string): Taint[] => node(name).spec?.taints ?? [];
  const hasTaint = (name: string, key: string, effect: string) =>
    taints(name).some((t) => t.key === key && t.effect === effect);
  return { clock, client, recorder, c, node, renew, kubeletPosts, pass, synced, taints, hasTaint };
}

const UNREACHABLE = "node.kubernetes.io/unreachable";
const NOT_READY = "node.kubernetes.io/not-ready";

describe("node lifecycle controller", () => {
  test("a node whose Lease stops: Unknown, pods not Ready, events, unreachable taints; back: untainted", async () => {
    const r = await rig(["n1", "n2"]);
    r.client.seed(PODS, readyPod("p1", "n1"), readyPod("p2", "n2"));
    await r.pass();
    assert.deepEqual(
      r.recorder.events.filter((e) => e.reason === "RegisteredNode").map((e) => e.message),
      ["Node n1 event: Registered Node n1 in Controller", "Node n2 event: Registered Node n2 in Controller"],
    );

    // Within the grace period nothing happens; n2's kubelet keeps renewing, n1's does not.
    r.clock.step(20_000);
    await r.renew("n2");
    await r.pass();
    assert.equal(r.node("n1").status?.conditions?.[0]?.status, "True");

    r.clock.step(21_000);
    await r.renew("n2");
    await r.pass();
    const ready = r.node("n1").status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "Unknown");
    assert.equal(ready?.reason, "NodeStatusUnknown");
    assert.equal(ready?.message, "Kubelet stopped posting node status.");
    assert.equal(r.node("n2").status?.conditions?.[0]?.status, "True");
    assert.ok(
      r.recorder.events.some(
        (e) => e.object === "n1" && e.reason === "NodeNotReady" && e.message === "Node n1 status is now: NodeNotReady",
      ),
    );
    const p1 = r.client.object<Pod>(PODS, "default", "p1");
    assert.equal(p1?.status?.conditions?.find((c) => c.type === "Ready")?.status, "False");
    assert.equal(r.client.object<Pod>(PODS, "default", "p2")?.status?.conditions?.[0]?.status, "True");
    assert.ok(
      r.recorder.events.some(
        (e) => e.object === "default/p1" && e.reason === "NodeNotReady" && e.message === "Node is not ready",
      ),
    );

    // The next pass sees Unknown and queues the NoExecute taint; the tainting pass adds it.
    r.clock.step(1_000);
    await r.renew("n2");
    await r.pass();
    assert.deepEqual(r.c.waitingForTaint(), ["n1"]);
    await r.c.doNoExecuteTaintingPass();
    const noExecute = r.taints("n1").find((t) => t.key === UNREACHABLE && t.effect === "NoExecute");
    assert.equal(noExecute?.timeAdded, metaTime(r.clock.now()));
    assert.deepEqual(r.c.waitingForTaint(), []);
    // TaintNodesByCondition: the NoSchedule twin, from the node's conditions.
    await r.synced();
    await r.c.syncNoScheduleTaints("n1");
    assert.ok(r.hasTaint("n1", UNREACHABLE, "NoSchedule"));
    assert.deepEqual(r.taints("n2"), []);

    // Passes while it stays down neither re-taint nor re-write it.
    const rv = r.node("n1").metadata.resourceVersion;
    r.clock.step(5_000);
    await r.renew("n2");
    await r.pass();
    await r.c.doNoExecuteTaintingPass();
    assert.equal(r.node("n1").metadata.resourceVersion, rv);

    // The kubelet is back: Ready=True, a renewed Lease: both taints go.
    r.clock.step(5_000);
    await r.kubeletPosts("n1");
    await r.renew("n2");
    await r.pass();
    assert.equal(r.hasTaint("n1", UNREACHABLE, "NoExecute"), false);
    await r.c.syncNoScheduleTaints("n1");
    assert.deepEqual(r.taints("n1"), []);
  });

  test("--node-eviction-rate: one node tainted at once, the next after 1/rate seconds", async () => {
    const r = await rig(["n1", "n2", "n3", "n4", "n5"], { nodeEvictionRate: 0.1 });
    await r.pass();
    r.clock.step(41_000);
    await r.renew("n3", "n4", "n5");
    await r.pass(); // n1, n2 → Unknown
    r.clock.step(1_000);
    await r.renew("n3", "n4", "n5");
    await r.pass(); // both queued
    assert.deepEqual(r.c.waitingForTaint().sort(), ["n1", "n2"]);
    await r.c.doNoExecuteTaintingPass();
    const tainted = () => ["n1", "n2"].filter((n) => r.hasTaint(n, UNREACHABLE, "NoExecute"));
    assert.equal(tainted().length, 1);
    r.clock.step(5_000);
    await r.c.doNoExecuteTaintingPass();
    assert.equal(tainted().length, 1, "no token yet");
    r.clock.step(5_000);
    await r.c.doNoExecuteTaintingPass();
    assert.equal(tainted().length, 2);
  });

  test("every node down looks like a partition: nothing is tainted, taints are removed", async () => {
    const r = await rig(["n1", "n2"]);
    await r.pass();
    r.clock.step(41_000);
    await r.pass();
    assert.equal(r.node("n1").status?.conditions?.[0]?.status, "Unknown");
    assert.equal(r.node("n2").status?.conditions?.[0]?.status, "Unknown");
    assert.equal(r.c.zoneState(), "FullDisruption");
    r.clock.step(1_000);
    await r.pass();
    await r.c.doNoExecuteTaintingPass();
    assert.equal(r.hasTaint("n1", UNREACHABLE, "NoExecute"), false);
    assert.equal(r.hasTaint("n2", UNREACHABLE, "NoExecute"), false);

    // One node back: the other is tainted at the normal rate (the stopped limiter's empty bucket
    // carries over, so the first token comes 1/rate seconds later).
    r.clock.step(1_000);
    await r.kubeletPosts("n2");
    await r.pass();
    assert.equal(r.c.zoneState(), "Normal");
    r.clock.step(1_000);
    await r.renew("n2");
    await r.pass();
    await r.c.doNoExecuteTaintingPass();
    assert.equal(r.hasTaint("n1", UNREACHABLE, "NoExecute"), false);
    r.clock.step(10_000);
    await r.c.doNoExecuteTaintingPass();
    assert.ok(r.hasTaint("n1", UNREACHABLE, "NoExecute"));
  });

  test("Ready=False gets not-ready; then Unknown swaps it for unreachable at once", async () => {
    const r = await rig(["n1", "n2"]);
    await r.pass();
    r.clock.step(1_000);
    await r.kubeletPosts("n1", "False");
    await r.renew("n2");
    await r.pass();
    await r.c.doNoExecuteTaintingPass();
    assert.ok(r.hasTaint("n1", NOT_READY, "NoExecute"));
    await r.synced();
    await r.c.syncNoScheduleTaints("n1");
    assert.ok(r.hasTaint("n1", NOT_READY, "NoSchedule"));

    r.clock.step(41_000);
    await r.renew("n2");
    await r.pass(); // → Unknown
    r.clock.step(1_000);
    await r.renew("n2");
    await r.pass(); // observed Unknown on a not-ready node: swapped in the pass itself
    assert.ok(r.hasTaint("n1", UNREACHABLE, "NoExecute"));
    assert.equal(r.hasTaint("n1", NOT_READY, "NoExecute"), false);
  });

  test("a pod bound to a not-Ready node is marked not Ready at once", async () => {
    const r = await rig(["n1", "n2"]);
    await r.pass();
    r.clock.step(1_000);
    await r.kubeletPosts("n1", "False");
    await r.pass();
    r.client.seed(PODS, readyPod("late", "n1"));
    await eventually(() => r.c.podQueue.length > 0 || undefined, "the pod to be queued");
    const key = await r.c.podQueue.get();
    assert.equal(key, "default/late");
    await r.c.processPod(key as string);
    r.c.podQueue.done(key as string);
    assert.equal(r.client.object<Pod>(PODS, "default", "late")?.status?.conditions?.[0]?.status, "False");
  });
});
