import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { SchedulingQueue } from "./queue.js";
import { makePod } from "./testing.js";

function setup() {
  const clock = new FakeClock();
  return { clock, q: new SchedulingQueue({ clock }) };
}

describe("SchedulingQueue", () => {
  test("activeQ pops by priority, then creation time", async () => {
    const { q } = setup();
    q.add(makePod("late", { created: "2026-01-01T00:00:02Z" }));
    q.add(makePod("early", { created: "2026-01-01T00:00:01Z" }));
    q.add(makePod("important", { created: "2026-01-01T00:00:03Z", priority: 1000 }));
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await q.pop())?.pod.metadata.name);
    assert.deepEqual(names, ["important", "early", "late"]);
  });

  test("pop waits for a pod and close wakes waiters with undefined", async () => {
    const { q } = setup();
    const p = q.pop();
    q.add(makePod("a"));
    assert.equal((await p)?.key, "default/a");
    const w = q.pop();
    q.close();
    assert.equal(await w, undefined);
  });

  test("backoff: 1 s doubling per attempt, capped at 10 s", async () => {
    const { q, clock } = setup();
    q.add(makePod("a"));
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      const qp = await q.pop();
      assert.ok(qp);
      durations.push(q.backoffDurationMs(qp));
      q.addBackoff(qp);
      // stays in backoffQ until the timer moves it
      assert.equal(q.where("default/a"), "backoff");
      clock.step(q.backoffDurationMs(qp));
      assert.equal(q.where("default/a"), "active");
    }
    assert.deepEqual(durations, [1000, 2000, 4000, 8000, 10000, 10000]);
  });

  test("a backed-off pod returns to activeQ when its backoff expires (timer, no polling)", async () => {
    const { q, clock } = setup();
    q.add(makePod("a"));
    const qp = await q.pop();
    assert.ok(qp);
    q.addBackoff(qp);
    clock.step(999);
    assert.equal(q.where("default/a"), "backoff");
    clock.step(1);
    assert.equal(q.where("default/a"), "active");
  });

  test("unschedulable pods wait for a node event, then go to activeQ (or backoffQ while backing off)", async () => {
    const { q, clock } = setup();
    q.add(makePod("a"));
    q.add(makePod("b", { created: "2026-01-01T00:00:01Z" }));
    const a = await q.pop();
    assert.ok(a);
    q.addUnschedulable(a, q.schedulingCycle - 0);
    const b = await q.pop();
    assert.ok(b);
    q.addUnschedulable(b, q.schedulingCycle);
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 2 });
    clock.step(60_000); // no event, no timer: they stay
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 2 });
    q.moveAllToActiveOrBackoff("NodeAdd");
    assert.deepEqual(q.pending(), { active: 2, backoff: 0, unschedulable: 0 });

    // A pod still inside its backoff window goes to backoffQ instead.
    const a2 = await q.pop();
    assert.ok(a2);
    q.addUnschedulable(a2, q.schedulingCycle);
    q.moveAllToActiveOrBackoff("NodeUpdate");
    assert.equal(q.where(a2.key), "backoff");
  });

  test("an event during the attempt sends the failed pod to backoffQ, not unschedulable", async () => {
    const { q } = setup();
    q.add(makePod("a"));
    const a = await q.pop();
    assert.ok(a);
    const cycle = q.schedulingCycle;
    q.moveAllToActiveOrBackoff("NodeAdd"); // e.g. a node was added while we were filtering
    q.addUnschedulable(a, cycle);
    assert.equal(q.where(a.key), "backoff");
  });

  test("unschedulable pods are flushed after 5 minutes", async () => {
    const { q, clock } = setup();
    q.add(makePod("a"));
    const a = await q.pop();
    assert.ok(a);
    q.addUnschedulable(a, q.schedulingCycle);
    clock.step(5 * 60_000 - 1);
    assert.equal(q.where(a.key), "unschedulable");
    clock.step(1);
    assert.equal(q.where(a.key), "active");
  });

  test("a spec update re-activates an unschedulable pod; a status-only update does not", async () => {
    const { q } = setup();
    const pod = makePod("a");
    q.add(pod);
    const a = await q.pop();
    assert.ok(a);
    q.addUnschedulable(a, q.schedulingCycle);
    const withStatus = { ...pod, metadata: { ...pod.metadata, resourceVersion: "9" }, status: { phase: "Pending" } };
    q.update(pod, withStatus);
    assert.equal(q.where(a.key), "unschedulable");
    const relabeled = { ...withStatus, metadata: { ...withStatus.metadata, labels: { x: "y" } } };
    q.update(withStatus, relabeled);
    assert.notEqual(q.where(a.key), "unschedulable");
  });

  test("delete removes a pod everywhere; a pod deleted while in flight is not requeued", async () => {
    const { q } = setup();
    q.add(makePod("a"));
    q.add(makePod("b"));
    q.delete(makePod("b"));
    const a = await q.pop();
    assert.ok(a);
    q.delete(a.pod);
    q.addUnschedulable(a, q.schedulingCycle);
    assert.equal(q.where("default/a"), undefined);
    assert.deepEqual(q.pending(), { active: 0, backoff: 0, unschedulable: 0 });
  });
});
