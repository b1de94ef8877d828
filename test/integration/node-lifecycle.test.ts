// The node lifecycle, taint eviction and pod GC controllers against the REAL API server (etcd
// behind it), run in-process with short periods. No kubelets: the test is the kubelet of two
// fake nodes, renewing their Leases in kube-node-lease (one of them stops) and posting Ready.
// Pods bound to a node without a kubelet stay Terminating after a graceful delete, so "evicted"
// is read as deletionTimestamp set, with the DisruptionTarget condition the controller wrote.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import { EVENTS, LEASES, NODES, PODS } from "#pkg/api/resources.js";
import { metaTime, microTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Event, Node, Pod, Taint, Toleration } from "#pkg/api/types/core.js";
import type { ApiClient } from "#pkg/client/client.js";
import { NodeLifecycleController } from "../../controller-manager/nodelifecycle/node-lifecycle-controller.js";
import { PodGCController } from "../../controller-manager/podgc/gc-controller.js";
import { TaintEvictionController } from "../../controller-manager/tainteviction/taint-eviction.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { node, pod, setPodRunningReady } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const LEASE_NS = "kube-node-lease";
const UNREACHABLE = "node.kubernetes.io/unreachable";
const GRACE_MS = 3_000;

function readyStatus(): Node["status"] {
  const now = metaTime();
  return {
    conditions: [
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
  };
}

async function createNode(c: ApiClient, name: string): Promise<void> {
  await c.create(NODES, undefined, node(name, readyStatus()));
  const lease: Lease = {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: LEASE_NS },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime(Date.now()) },
  };
  await c.create(LEASES, LEASE_NS, lease);
}

async function renewLease(c: ApiClient, name: string): Promise<void> {
  const l = await c.get(LEASES, LEASE_NS, name);
  await c.update(LEASES, LEASE_NS, { ...l, spec: { ...l.spec, renewTime: microTime(Date.now()) } });
}

/** What a kubelet that is back posts: Ready=True with a fresh heartbeat. */
async function postReady(c: ApiClient, name: string): Promise<void> {
  for (let i = 0; ; i++) {
    const n = await c.get(NODES, undefined, name);
    try {
      await c.update(NODES, undefined, { ...n, status: { ...n.status, ...readyStatus() } }, { subresource: "status" });
      return;
    } catch (err) {
      if (i > 5) throw err;
    }
  }
}

async function createPod(c: ApiClient, name: string, nodeName: string, tolerations?: Toleration[]): Promise<Pod> {
  const created = await c.create(PODS, NS, pod(name, { nodeName, command: null, tolerations }));
  // As its kubelet would: running and Ready.
  return setPodRunningReady(c, created);
}

const readyOf = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready");
const hasTaint = (n: Node, key: string, effect: string): Taint | undefined =>
  n.spec?.taints?.find((t) => t.key === key && t.effect === effect);

async function events(c: ApiClient, name: string): Promise<Event[]> {
  return (await c.list(EVENTS, NS)).items.filter((e) => e.involvedObject?.name === name);
}

async function podGone(c: ApiClient, name: string): Promise<boolean> {
  try {
    await c.get(PODS, NS, name);
    return false;
  } catch (err) {
    return isNotFound(err);
  }
}

describe("node lifecycle, taint eviction and pod GC against a real API server", () => {
  let server: TestApiServer | undefined;
  const running: RunningController<NodeLifecycleController | TaintEvictionController | PodGCController>[] = [];
  /** The nodes whose "kubelet" renews their Lease. */
  const alive = new Set<string>();
  let renewer: ReturnType<typeof setInterval> | undefined;
  let renewing: Promise<unknown> = Promise.resolve();
  const client = () => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };

  before(async () => {
    server = await startApiServer();
    const s = server;
    running.push(
      runController(
        s,
        (ctx) =>
          new NodeLifecycleController(ctx, {
            nodeMonitorPeriodMs: 250,
            nodeMonitorGracePeriodMs: GRACE_MS,
            nodeStartupGracePeriodMs: 10_000,
            nodeEvictionRate: 100,
          }),
      ),
      runController(s, (ctx) => new TaintEvictionController(ctx)),
      runController(
        s,
        (ctx) => new PodGCController(ctx, { terminatedPodGCThreshold: 3, gcCheckPeriodMs: 300, quarantineMs: 1_000 }),
      ),
    );
    renewer = setInterval(() => {
      renewing = Promise.allSettled([...alive].map((n) => renewLease(s.client, n)));
    }, 300);
  });
  after(async () => {
    if (renewer) clearInterval(renewer);
    await renewing;
    await Promise.all(running.map((r) => r.stop()));
    await server?.stop();
  });

  test("a node that stops renewing its Lease: Unknown, tainted, its pods evicted by tolerations; renewing again: untainted", async () => {
    const c = client();
    await createNode(c, "fake-down");
    await createNode(c, "fake-up"); // stays healthy: with every node down, nothing would be tainted
    alive.add("fake-down");
    alive.add("fake-up");
    const plain = await createPod(c, "plain", "fake-down");
    // The API server's DefaultTolerationSeconds admission: 300 s for not-ready and unreachable.
    assert.ok(plain.spec?.tolerations?.some((t) => t.key === UNREACHABLE && t.tolerationSeconds === 300));
    await createPod(c, "zero", "fake-down", [
      { key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 },
    ]);
    await createPod(c, "two", "fake-down", [
      { key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 },
    ]);
    await createPod(c, "safe", "fake-up");

    await waitFor(async () => (await events(c, "fake-down")).some((e) => e.reason === "RegisteredNode"), {
      timeoutMs: 10_000,
      message: "RegisteredNode event",
    });
    alive.delete("fake-down");

    const down = await waitFor(
      async () => {
        const n = await c.get(NODES, undefined, "fake-down");
        return hasTaint(n, UNREACHABLE, "NoExecute") && hasTaint(n, UNREACHABLE, "NoSchedule") ? n : undefined;
      },
      { timeoutMs: 20_000, message: "fake-down tainted unreachable (NoExecute and NoSchedule)" },
    );
    for (const type of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]) {
      const cond = down.status?.conditions?.find((x) => x.type === type);
      assert.equal(cond?.status, "Unknown", type);
    }
    assert.equal(readyOf(down)?.reason, "NodeStatusUnknown");
    assert.equal(readyOf(down)?.message, "Kubelet stopped posting node status.");
    const timeAdded = hasTaint(down, UNREACHABLE, "NoExecute")?.timeAdded;
    assert.ok(timeAdded, "the NoExecute taint has timeAdded");
    const up = await c.get(NODES, undefined, "fake-up");
    assert.equal(readyOf(up)?.status, "True");
    assert.equal(up.spec?.taints, undefined);

    const nodeEvents = await waitFor(
      async () => {
        const evs = await events(c, "fake-down");
        return evs.some((e) => e.reason === "NodeNotReady") ? evs : undefined;
      },
      { timeoutMs: 10_000, message: "NodeNotReady event on the node" },
    );
    const notReady = nodeEvents.find((e) => e.reason === "NodeNotReady");
    assert.equal(notReady?.message, "Node fake-down status is now: NodeNotReady");
    assert.equal(notReady?.source?.component, "node-controller");

    // Pods on the node: not Ready (their kubelet cannot say so).
    const plainNow = await waitFor(
      async () => {
        const p = await c.get(PODS, NS, "plain");
        return p.status?.conditions?.find((x) => x.type === "Ready")?.status === "False" ? p : undefined;
      },
      { timeoutMs: 10_000, message: "plain marked not Ready" },
    );
    assert.equal(plainNow.metadata.deletionTimestamp, undefined, "plain tolerates unreachable for 300 s");

    // tolerationSeconds 0: at once; 2: two seconds after the taint was added.
    const evicted = async (name: string) =>
      waitFor(
        async () => {
          const p = await c.get(PODS, NS, name);
          return p.metadata.deletionTimestamp ? p : undefined;
        },
        { timeoutMs: 15_000, message: `${name} evicted` },
      );
    const zero = await evicted("zero");
    const two = await evicted("two");
    const disruption = (p: Pod) => p.status?.conditions?.find((x) => x.type === "DisruptionTarget");
    assert.equal(disruption(zero)?.reason, "DeletionByTaintManager");
    assert.equal(disruption(two)?.message, "Taint manager: deleting due to NoExecute taint");
    const evictedAt = Date.parse(disruption(two)?.lastTransitionTime ?? "");
    assert.ok(
      evictedAt >= Date.parse(timeAdded) + 2_000,
      `two evicted at ${disruption(two)?.lastTransitionTime}, 2 s after ${timeAdded}`,
    );
    const evictionEvents = await waitFor(
      async () => {
        const evs = (await events(c, "two")).filter((e) => e.reason === "TaintManagerEviction");
        return evs.length > 0 ? evs : undefined;
      },
      { timeoutMs: 10_000, message: "TaintManagerEviction event" },
    );
    assert.equal(evictionEvents[0]?.message, "Marking for deletion Pod default/two");
    assert.equal(evictionEvents[0]?.source?.component, "taint-eviction-controller");

    // The kubelet is back: Ready posted, Lease renewed. Both taints go; plain's eviction is cancelled.
    await postReady(c, "fake-down");
    alive.add("fake-down");
    await waitFor(
      async () => {
        const n = await c.get(NODES, undefined, "fake-down");
        return readyOf(n)?.status === "True" && !(n.spec?.taints ?? []).some((t) => t.key === UNREACHABLE);
      },
      { timeoutMs: 20_000, message: "fake-down untainted" },
    );
    await waitFor(
      async () =>
        (await events(c, "plain")).some(
          (e) => e.reason === "TaintManagerEviction" && e.message === "Cancelling deletion of Pod default/plain",
        ),
      { timeoutMs: 10_000, message: "plain's eviction cancelled" },
    );
    assert.equal((await c.get(PODS, NS, "plain")).metadata.deletionTimestamp, undefined);
    assert.equal((await c.get(PODS, NS, "safe")).metadata.deletionTimestamp, undefined);
  });

  test("a NoExecute taint set by hand: pods not tolerating it are evicted at once", async () => {
    const c = client();
    await createNode(c, "fake-tainted");
    alive.add("fake-tainted");
    await createPod(c, "victim", "fake-tainted");
    await createPod(c, "tolerant", "fake-tainted", [{ key: "example.com/maintenance", operator: "Exists" }]);
    const n = await c.get(NODES, undefined, "fake-tainted");
    await c.update(NODES, undefined, {
      ...n,
      spec: { ...n.spec, taints: [{ key: "example.com/maintenance", effect: "NoExecute", timeAdded: metaTime() }] },
    });
    await waitFor(async () => !!(await c.get(PODS, NS, "victim")).metadata.deletionTimestamp, {
      timeoutMs: 10_000,
      message: "victim evicted",
    });
    assert.equal((await c.get(PODS, NS, "tolerant")).metadata.deletionTimestamp, undefined);
  });

  test("pod GC: pods of a deleted node, then terminated pods over the threshold, oldest first", async () => {
    const c = client();
    await createNode(c, "fake-gone");
    await createPod(c, "orphan", "fake-gone");
    await c.delete(NODES, undefined, "fake-gone");
    await waitFor(() => podGone(c, "orphan"), { timeoutMs: 15_000, message: "the orphan force-deleted" });

    // Five terminated pods, threshold 3: the two oldest go. The first is a second older than the rest.
    const terminated = async (name: string) => {
      const p = await c.create(PODS, NS, pod(name, { command: null, restartPolicy: "Never" }));
      await c.update(PODS, NS, { ...p, status: { ...p.status, phase: "Succeeded" } }, { subresource: "status" });
      return p;
    };
    const oldest = await terminated("z-old");
    const oldestAt = Date.parse(oldest.metadata.creationTimestamp ?? "");
    await waitFor(() => Date.now() >= oldestAt + 1_000, { timeoutMs: 2_000, message: "the next second" });
    for (const name of ["a-1", "a-2", "a-3", "a-4"]) await terminated(name);
    await waitFor(async () => (await podGone(c, "z-old")) && (await podGone(c, "a-1")), {
      timeoutMs: 15_000,
      message: "the two oldest terminated pods deleted",
    });
    for (const name of ["a-2", "a-3", "a-4"]) assert.equal(await podGone(c, name), false, name);
  });
});
