import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { conflict } from "#pkg/api/errors.js";
import type { Pod, PodCondition } from "#pkg/api/types/index.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { type EventSink, Scheduler, type SchedulerApi, type SchedulerOptions } from "./scheduler.js";
import { FakeVolumes, makeClaim, makeNode, makePod, makeStorageClass, makeVolume, podWithClaims } from "./testing.js";

class FakeApi implements SchedulerApi {
  bound = new Map<string, string>();
  conditions = new Map<string, PodCondition>();
  /** Resolve binds only when released, to model slow binding. */
  gate: Promise<void> = Promise.resolve();
  rejectWithConflict = new Set<string>();

  async bind(pod: Pod, nodeName: string): Promise<void> {
    await this.gate;
    const name = pod.metadata.name ?? "";
    if (this.rejectWithConflict.has(name) || this.bound.has(name)) {
      throw conflict({ group: "", resource: "pods" }, name, `pod ${name} is already assigned to node "x"`);
    }
    this.bound.set(name, nodeName);
  }

  async updatePodCondition(pod: Pod, condition: PodCondition): Promise<void> {
    this.conditions.set(pod.metadata.name ?? "", condition);
  }
}

class FakeEvents implements EventSink {
  events: Array<{ name: string; reason: string; message: string }> = [];
  event(obj: Pod, _type: string, reason: string, message: string): void {
    this.events.push({ name: obj.metadata.name ?? "", reason, message });
  }
}

async function drain(s: Scheduler): Promise<void> {
  while (s.queue.pending().active > 0) await s.scheduleOne();
}

describe("Scheduler", () => {
  // The queue arms real timers (backoff, and 5 min for unschedulable pods): a scheduler that is
  // never run is never closed, and its timers would keep the test process alive.
  const made: Scheduler[] = [];
  const newScheduler = (o: SchedulerOptions): Scheduler => {
    const s = new Scheduler(o);
    made.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of made.splice(0)) s.queue.close();
  });

  test("a burst is not overfilled: assumed pods count before their bindings return", async () => {
    const api = new FakeApi();
    let release = () => {};
    api.gate = new Promise((r) => {
      release = r;
    });
    const s = newScheduler({ api });
    s.onNodeAdd(makeNode("a", { cpu: "1" }));
    s.onNodeAdd(makeNode("b", { cpu: "1" }));
    for (let i = 0; i < 30; i++) s.onPodAdd(makePod(`p${i}`, { cpu: "100m" }));
    await drain(s);
    assert.equal(s.cache.assumedCount, 20);
    assert.deepEqual(s.queue.pending(), { active: 0, backoff: 0, unschedulable: 10 });
    release();
    await s.waitForBindings();
    assert.equal(api.bound.size, 20);
    const perNode = [...api.bound.values()].reduce<Record<string, number>>((m, n) => {
      m[n] = (m[n] ?? 0) + 1;
      return m;
    }, {});
    assert.deepEqual(perNode, { a: 10, b: 10 });
    // A new node makes room: the waiting pods are retried (after their backoff) and fit.
    s.onNodeAdd(makeNode("c", { cpu: "1" }));
    assert.equal(s.queue.pending().unschedulable, 0);
  });

  test("an unschedulable pod gets a FailedScheduling event and PodScheduled=False", async () => {
    const api = new FakeApi();
    const events = new FakeEvents();
    const s = newScheduler({ api, events });
    s.onNodeAdd(makeNode("a", { cpu: "1" }));
    s.onNodeAdd(makeNode("b", { cpu: "2" }));
    s.onPodAdd(makePod("big", { cpu: "4" }));
    await drain(s);
    await s.waitForBindings();
    const msg =
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.";
    assert.deepEqual(events.events, [{ name: "big", reason: "FailedScheduling", message: msg }]);
    const cond = api.conditions.get("big");
    assert.deepEqual(
      [cond?.type, cond?.status, cond?.reason, cond?.message],
      ["PodScheduled", "False", "Unschedulable", msg],
    );
  });

  test("success emits Scheduled; a bind conflict just forgets the assumption", async () => {
    const api = new FakeApi();
    const events = new FakeEvents();
    const s = newScheduler({ api, events });
    s.onNodeAdd(makeNode("a"));
    s.onPodAdd(makePod("web-1"));
    api.rejectWithConflict.add("taken");
    s.onPodAdd(makePod("taken", { cpu: "1" }));
    await drain(s);
    await s.waitForBindings();
    assert.deepEqual(
      events.events.map((e) => [e.name, e.reason, e.message]),
      [["web-1", "Scheduled", "Successfully assigned default/web-1 to a"]],
    );
    assert.equal(s.cache.isAssumed("default/taken"), false);
    assert.equal(s.cache.getNodeInfo("a")?.requested.cpu ?? 0, 0);
    assert.equal(s.queue.where("default/taken"), undefined);
  });

  test("ignores pods for other schedulers, assigned pods and pods being deleted", () => {
    const s = newScheduler({ api: new FakeApi() });
    s.onPodAdd(makePod("other", { spec: { containers: [{ name: "c" }], schedulerName: "my-scheduler" } }));
    s.onPodAdd(makePod("bound", { nodeName: "a" }));
    const deleting = makePod("gone");
    deleting.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    s.onPodAdd(deleting);
    assert.deepEqual(s.queue.pending(), { active: 0, backoff: 0, unschedulable: 0 });
  });

  test("a deleted bound pod frees room and re-activates waiting pods", async () => {
    const api = new FakeApi();
    const s = newScheduler({ api });
    s.onNodeAdd(makeNode("a", { cpu: "1" }));
    const holder = makePod("holder", { cpu: "1", nodeName: "a" });
    s.onPodAdd(holder);
    s.onPodAdd(makePod("waiting", { cpu: "1" }));
    await drain(s);
    assert.equal(s.queue.where("default/waiting"), "unschedulable");
    s.onPodDelete(holder);
    assert.notEqual(s.queue.where("default/waiting"), "unschedulable");
  });

  test("node heartbeats do not re-activate unschedulable pods; a label or allocatable change does", async () => {
    const s = newScheduler({ api: new FakeApi() });
    const node = makeNode("a", { cpu: "1" });
    s.onNodeAdd(node);
    s.onPodAdd(makePod("p", { cpu: "1", nodeSelector: { disk: "ssd" } }));
    await drain(s);
    assert.equal(s.queue.where("default/p"), "unschedulable");
    const beat = structuredClone(node);
    beat.metadata.resourceVersion = "2";
    (beat.status?.conditions ?? [])[0]!.lastHeartbeatTime = "2026-01-01T00:01:00Z";
    s.onNodeUpdate(node, beat);
    assert.equal(s.queue.where("default/p"), "unschedulable");
    const labeled = structuredClone(beat);
    labeled.metadata.labels = { ...labeled.metadata.labels, disk: "ssd" };
    s.onNodeUpdate(beat, labeled);
    assert.notEqual(s.queue.where("default/p"), "unschedulable");
  });

  test("volumes: the binding waits for the claim to be bound; a failed PreBind unreserves and retries with an event", async () => {
    const api = new FakeApi();
    const events = new FakeEvents();
    const volumes = new FakeVolumes();
    const clock = new FakeClock();
    const s = newScheduler({ api, events, volumes, clock, volumeBindingArgs: { bindTimeoutMs: 60_000 } });
    for (const n of [makeNode("a"), makeNode("b")]) {
      volumes.addNode(n);
      s.onNodeAdd(n);
    }
    volumes.classes.set("standard", makeStorageClass("standard", { wffc: true }));
    volumes.putClaim(makeClaim("data", { class: "standard" }));
    s.onPodAdd(podWithClaims("web", "data"));
    await drain(s);
    await new Promise((r) => setImmediate(r));
    const selected = volumes.claims.get("default/data")?.metadata.annotations?.["volume.kubernetes.io/selected-node"];
    assert.ok(selected === "a" || selected === "b");
    assert.equal(api.bound.size, 0, "the pod waits for its claim");
    assert.equal(s.cache.isAssumed("default/web"), true);
    // The provisioner makes the PV and the binder binds the claim.
    volumes.putVolume(makeVolume("pvc-data", { node: selected, class: "standard" }));
    volumes.bind("data", "pvc-data");
    await s.waitForBindings();
    assert.equal(api.bound.get("web"), selected);

    // A second claim whose provisioner never answers: the wait times out, the assumption goes.
    volumes.putClaim(makeClaim("slow", { class: "standard" }));
    s.onPodAdd(podWithClaims("slow-pod", "slow"));
    await drain(s);
    await new Promise((r) => setImmediate(r));
    clock.step(60_000);
    await s.waitForBindings();
    assert.equal(api.bound.has("slow-pod"), false);
    assert.equal(s.cache.isAssumed("default/slow-pod"), false);
    assert.equal(s.queue.where("default/slow-pod"), "backoff");
    assert.deepEqual(events.events.at(-1), {
      name: "slow-pod",
      reason: "FailedScheduling",
      message: 'running PreBind plugin "VolumeBinding": binding volumes: timed out waiting for the condition',
    });
  });

  test("volumes: a claim's event moves only the pods that use it; a PV's, the pods with claims", async () => {
    const s = newScheduler({ api: new FakeApi(), volumes: new FakeVolumes() });
    s.onNodeAdd(makeNode("a"));
    s.onPodAdd(podWithClaims("uses-data", "data"));
    s.onPodAdd(podWithClaims("uses-logs", "logs"));
    s.onPodAdd(makePod("big", { cpu: "64" }));
    await drain(s);
    for (const p of ["uses-data", "uses-logs", "big"]) assert.equal(s.queue.where(`default/${p}`), "unschedulable");
    s.onClaimAddOrUpdate(makeClaim("data"));
    assert.notEqual(s.queue.where("default/uses-data"), "unschedulable");
    assert.equal(s.queue.where("default/uses-logs"), "unschedulable");
    s.onVolumeAddOrUpdate(makeVolume("pv"));
    assert.notEqual(s.queue.where("default/uses-logs"), "unschedulable");
    assert.equal(s.queue.where("default/big"), "unschedulable");
  });
});
