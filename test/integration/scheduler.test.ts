// The scheduler against the REAL API server (etcd-backed, separate process): Node objects are
// created through the API (no kubelets), pods are created, and we watch what the scheduler
// binds, the Events it writes and the PodScheduled condition it sets.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVENTS, LEASES, NODES, PODS } from "#pkg/api/resources.js";
import type { Event, Lease, Node, Pod, Taint, Toleration } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { SchedulerApp, type SchedulerAppOptions } from "../../scheduler/app.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { waitFor } from "../harness/wait.js";

interface NodeOpts {
  cpu?: string;
  memory?: string;
  pods?: string;
  labels?: Record<string, string>;
  taints?: Taint[];
}

async function createNode(client: ApiClient, name: string, o: NodeOpts = {}): Promise<Node> {
  const amounts = { cpu: o.cpu ?? "1", memory: o.memory ?? "4Gi", pods: o.pods ?? "110" };
  return client.create<Node>(NODES, undefined, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...o.labels } },
    spec: o.taints ? { taints: o.taints } : {},
    status: {
      capacity: amounts,
      allocatable: amounts,
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "fake node" }],
    },
  });
}

interface PodOpts {
  cpu?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  schedulerName?: string;
}

async function createPod(client: ApiClient, name: string, o: PodOpts = {}): Promise<Pod> {
  return client.create<Pod>(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      containers: [{ name: "c", image: "busybox", ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}) }],
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.schedulerName ? { schedulerName: o.schedulerName } : {}),
    },
  });
}

async function podNode(client: ApiClient, name: string): Promise<string | undefined> {
  const p = await client.get<Pod>(PODS, "default", name);
  return p.spec?.nodeName || undefined;
}

function waitBound(client: ApiClient, name: string, timeoutMs = 15_000): Promise<string> {
  return waitFor(() => podNode(client, name), { timeoutMs, message: `pod ${name} to be bound` });
}

async function eventsFor(client: ApiClient, name: string, reason: string): Promise<Event[]> {
  const list = await client.list<Event>(EVENTS, "default");
  return list.items.filter((e) => e.involvedObject?.name === name && e.reason === reason);
}

async function boundPods(client: ApiClient): Promise<Pod[]> {
  return (await client.list<Pod>(PODS, "default")).items.filter((p) => p.spec?.nodeName);
}

/** One API server per test: nodes are cluster-scoped, so tests must not see each other's. */
function withCluster(): {
  server: () => TestApiServer;
  start: (o?: Partial<SchedulerAppOptions>) => SchedulerApp;
  stop: (app: SchedulerApp) => Promise<unknown>;
} {
  let server: TestApiServer | undefined;
  const running: Array<{ app: SchedulerApp; ac: AbortController; done: Promise<unknown> }> = [];
  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    for (const r of running) r.ac.abort();
    await Promise.all(running.map((r) => r.done));
    await server?.stop();
  });
  return {
    server: () => {
      if (!server) throw new Error("API server not started");
      return server;
    },
    start: (o = {}) => {
      if (!server) throw new Error("API server not started");
      const app = new SchedulerApp({ client: server.client, leaderElect: false, log: silentLogger, ...o });
      const ac = new AbortController();
      running.push({ app, ac, done: app.run(ac.signal) });
      return app;
    },
    stop: (app) => {
      const r = running.find((x) => x.app === app);
      r?.ac.abort();
      return r?.done ?? Promise.resolve();
    },
  };
}

describe("scheduler: binds a pod to a fitting node", () => {
  const c = withCluster();
  test("the pod lands on the only node with room, with a Scheduled event", async () => {
    const client = c.server().client;
    await createNode(client, "node-1", { cpu: "2" });
    await createNode(client, "node-2", { cpu: "500m" });
    c.start();
    await createPod(client, "web-1", { cpu: "1" });
    assert.equal(await waitBound(client, "web-1"), "node-1");
    const ev = await waitFor(async () => (await eventsFor(client, "web-1", "Scheduled"))[0], {
      message: "Scheduled event",
    });
    assert.equal(ev.message, "Successfully assigned default/web-1 to node-1");
    assert.equal(ev.type, "Normal");
  });
});

describe("scheduler: a pod that fits nowhere stays Pending", () => {
  const c = withCluster();
  test("FailedScheduling with upstream's message and PodScheduled=False", async () => {
    const client = c.server().client;
    await createNode(client, "node-1", { cpu: "1" });
    await createNode(client, "node-2", { cpu: "2" });
    c.start();
    await createPod(client, "huge", { cpu: "8" });
    const ev = await waitFor(async () => (await eventsFor(client, "huge", "FailedScheduling"))[0], {
      message: "FailedScheduling event",
    });
    assert.equal(ev.type, "Warning");
    assert.equal(
      ev.message,
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    const cond = await waitFor(
      async () => {
        const p = await client.get<Pod>(PODS, "default", "huge");
        return p.status?.conditions?.find((x) => x.type === "PodScheduled");
      },
      { message: "PodScheduled condition" },
    );
    assert.equal(cond.status, "False");
    assert.equal(cond.reason, "Unschedulable");
    assert.match(cond.message ?? "", /^0\/2 nodes are available: 2 Insufficient cpu\./);
    const pod = await client.get<Pod>(PODS, "default", "huge");
    assert.equal(pod.spec?.nodeName, undefined);
    assert.equal(pod.status?.phase, "Pending");
  });
});

describe("scheduler: nodeSelector", () => {
  const c = withCluster();
  test("steers the pod to the matching node of two", async () => {
    const client = c.server().client;
    await createNode(client, "node-ssd", { cpu: "2", labels: { disk: "ssd" } });
    await createNode(client, "node-hdd", { cpu: "4", labels: { disk: "hdd" } });
    c.start();
    for (let i = 0; i < 4; i++) await createPod(client, `db-${i}`, { cpu: "100m", nodeSelector: { disk: "ssd" } });
    await createPod(client, "hdd-pod", { nodeSelector: { disk: "hdd" } });
    for (let i = 0; i < 4; i++) assert.equal(await waitBound(client, `db-${i}`), "node-ssd");
    assert.equal(await waitBound(client, "hdd-pod"), "node-hdd");
  });
});

describe("scheduler: taints and tolerations", () => {
  const c = withCluster();
  test("a NoSchedule taint keeps pods off; a toleration lets one on", async () => {
    const client = c.server().client;
    const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };
    await createNode(client, "gpu-node", { cpu: "8", labels: { gpu: "true" }, taints: [taint] });
    await createNode(client, "plain-node", { cpu: "1" });
    c.start();
    for (let i = 0; i < 5; i++) await createPod(client, `plain-${i}`, { cpu: "100m" });
    await createPod(client, "wants-gpu", { nodeSelector: { gpu: "true" } });
    await createPod(client, "tolerates-gpu", {
      nodeSelector: { gpu: "true" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
    });
    for (let i = 0; i < 5; i++) assert.equal(await waitBound(client, `plain-${i}`), "plain-node");
    assert.equal(await waitBound(client, "tolerates-gpu"), "gpu-node");
    const ev = await waitFor(async () => (await eventsFor(client, "wants-gpu", "FailedScheduling"))[0], {
      message: "FailedScheduling for wants-gpu",
    });
    assert.match(
      ev.message ?? "",
      /^0\/2 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 1 node\(s\) had untolerated taint \{dedicated: gpu\}\./,
    );
    assert.equal(await podNode(client, "wants-gpu"), undefined);
  });
});

describe("scheduler: burst", () => {
  const c = withCluster();
  test("30 pods onto room for 20 places exactly 20; a new node takes the rest", async () => {
    const client = c.server().client;
    await createNode(client, "node-a", { cpu: "1" });
    await createNode(client, "node-b", { cpu: "1" });
    const app = c.start();
    await Promise.all(Array.from({ length: 30 }, (_, i) => createPod(client, `burst-${i}`, { cpu: "100m" })));
    await waitFor(
      async () => (await boundPods(client)).length >= 20 && app.scheduler.queue.pending().unschedulable === 10,
      {
        timeoutMs: 20_000,
        message: "20 pods bound and 10 unschedulable",
      },
    );
    let bound = await boundPods(client);
    assert.equal(bound.length, 20);
    const perNode = (pods: Pod[]) =>
      pods.reduce<Record<string, number>>((m, p) => {
        const n = p.spec?.nodeName ?? "";
        m[n] = (m[n] ?? 0) + 1;
        return m;
      }, {});
    assert.deepEqual(perNode(bound), { "node-a": 10, "node-b": 10 });
    assert.equal(app.scheduler.metrics.bindings.failed, 0);

    await createNode(client, "node-c", { cpu: "1" });
    bound = await waitFor(
      async () => {
        const b = await boundPods(client);
        return b.length === 30 ? b : undefined;
      },
      { timeoutMs: 20_000, message: "all 30 pods bound after node-c was added" },
    );
    assert.deepEqual(perNode(bound), { "node-a": 10, "node-b": 10, "node-c": 10 });
  });
});

describe("scheduler: two schedulers with leader election", () => {
  const c = withCluster();
  test("only the leader schedules; every pod is bound exactly once; the other takes over", async () => {
    const client = c.server().client;
    await createNode(client, "node-1", { cpu: "4" });
    await createNode(client, "node-2", { cpu: "4" });
    const le = { leaderElect: true, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 };
    const a = c.start({ ...le, identity: "sched-a" });
    const b = c.start({ ...le, identity: "sched-b" });
    const leader = await waitFor(() => (a.isLeader() ? a : b.isLeader() ? b : undefined), {
      message: "a leader",
    });
    const follower = leader === a ? b : a;
    await Promise.all(Array.from({ length: 20 }, (_, i) => createPod(client, `le-${i}`, { cpu: "100m" })));
    await waitFor(async () => (await boundPods(client)).length === 20, { timeoutMs: 20_000, message: "20 bound" });
    // The API shows a pod bound before the leader has the binding's answer (and counted it).
    await leader.scheduler.waitForBindings();
    assert.equal(a.isLeader() && b.isLeader(), false);
    assert.equal(leader.scheduler.metrics.bindings.ok, 20);
    assert.equal(leader.scheduler.metrics.bindings.failed, 0);
    assert.equal(follower.scheduler.metrics.attempts.scheduled, 0);
    assert.equal(follower.scheduler.metrics.bindings.ok + follower.scheduler.metrics.bindings.failed, 0);
    // The Scheduled Event is written after the binding: wait until every pod has one, then count.
    await waitFor(
      async () => {
        const events = (await client.list<Event>(EVENTS, "default")).items.filter((e) => e.reason === "Scheduled");
        return new Set(events.map((e) => e.involvedObject?.name)).size >= 20;
      },
      { timeoutMs: 20_000, message: "a Scheduled Event for each of the 20 pods" },
    );
    for (let i = 0; i < 20; i++) {
      assert.equal((await eventsFor(client, `le-${i}`, "Scheduled")).length, 1, `le-${i} Scheduled once`);
    }
    const lease = await client.get<Lease>(LEASES, "kube-system", "kube-scheduler");
    assert.equal(lease.spec?.holderIdentity, leader.identity);

    // The leader shuts down (releasing the lease); the other one takes over and schedules.
    assert.equal(await c.stop(leader), "stopped");
    await waitFor(() => follower.isLeader(), { timeoutMs: 15_000, message: "the follower to take over" });
    for (let i = 0; i < 3; i++) await createPod(client, `after-${i}`, { cpu: "100m" });
    for (let i = 0; i < 3; i++) await waitBound(client, `after-${i}`);
    assert.equal(follower.scheduler.metrics.bindings.ok, 3);
    assert.equal((await boundPods(client)).length, 23);
  });
});
