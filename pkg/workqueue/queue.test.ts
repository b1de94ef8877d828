import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FakeClock, flush } from "../runtime/clock.js";
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
  MaxOfRateLimiter,
  WorkQueue,
} from "./queue.js";

describe("WorkQueue", () => {
  test("de-duplicates keys waiting in the queue and keeps FIFO order", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(q.length, 2);
    assert.equal(await q.get(), "a");
    assert.equal(await q.get(), "b");
    assert.equal(q.length, 0);
  });

  test("a key re-added while processing is queued exactly once on done, never handed out twice", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add("a");
    const key = await q.get();
    assert.equal(key, "a");
    q.add("a");
    q.add("a");
    assert.equal(q.length, 0, "not queued while processing");
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await flush();
    assert.equal(second, undefined, "a second worker must not get the key being processed");
    q.done("a");
    await flush();
    assert.equal(second, "a");
    q.done("a");
    assert.equal(q.length, 0);
    assert.equal(q.processingCount, 0);
  });

  test("a waiting get() receives a key added later", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add("x");
    assert.equal(await p, "x");
    assert.equal(q.processingCount, 1);
  });

  test("shutDown releases waiters, ignores new keys, and still drains queued ones", async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);

    const q2 = new WorkQueue({ clock: new FakeClock() });
    q2.add("a");
    q2.shutDown();
    q2.add("b");
    assert.equal(await q2.get(), "a");
    assert.equal(await q2.get(), undefined);
  });

  test("addAfter waits on the clock and keeps the earliest time per key", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter("a", 1000);
    q.addAfter("a", 500);
    q.addAfter("a", 2000);
    assert.equal(q.delayedCount, 1);
    clock.step(499);
    assert.equal(q.length, 0);
    clock.step(1);
    assert.equal(q.length, 1);
    clock.step(5000);
    assert.equal(q.length, 1, "the cancelled timers do not add again");
  });

  test("addRateLimited backs off exponentially per key; forget resets", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      q.addRateLimited("a");
      delays.push(clock.nextAt()! - clock.now());
      clock.step(delays.at(-1)!);
      assert.equal(q.length, 1);
      q.done((await q.get())!);
    }
    assert.deepEqual(delays, [5, 10, 20, 40]);
    assert.equal(q.numRequeues("a"), 4);
    q.forget("a");
    assert.equal(q.numRequeues("a"), 0);
  });
});

describe("rate limiters", () => {
  test("item exponential caps at max", () => {
    const l = new ItemExponentialFailureRateLimiter(5, 1_000_000);
    let last = 0;
    for (let i = 0; i < 100; i++) last = l.when("k");
    assert.equal(last, 1_000_000);
    assert.equal(l.when("other"), 5);
  });

  test("token bucket: burst is free, then 10 qps", () => {
    const clock = new FakeClock();
    const b = new BucketRateLimiter(10, 100, clock);
    for (let i = 0; i < 100; i++) assert.equal(b.when(`k${i}`), 0);
    assert.equal(b.when("x"), 100);
    assert.equal(b.when("y"), 200);
    clock.step(1000); // 10 tokens back; debt was 2
    assert.equal(b.when("z"), 0);
  });

  test("default limiter is the max of both", () => {
    const clock = new FakeClock();
    const l = defaultControllerRateLimiter(clock);
    assert.ok(l instanceof MaxOfRateLimiter);
    assert.equal(l.when("a"), 5);
    assert.equal(l.when("a"), 10);
    // Exhaust the bucket with other keys: the overall limit now dominates a fresh key's 5 ms.
    for (let i = 0; i < 200; i++) l.when(`b${i}`);
    assert.ok(l.when("fresh") > 5);
  });
});
