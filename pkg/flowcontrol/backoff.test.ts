import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../runtime/clock.js";
import { Backoff } from "./backoff.js";

test("Backoff: base, doubling, capped; remaining counts from since; forgotten after 2×max quiet", () => {
  const clock = new FakeClock();
  const b = new Backoff(1000, 4000, clock);
  assert.equal(b.delay("k"), 0);
  assert.equal(b.remaining("k", clock.now()), 0);
  assert.deepEqual([b.next("k"), b.next("k"), b.next("k"), b.next("k")], [1000, 2000, 4000, 4000]);
  const since = clock.now();
  clock.step(1500);
  assert.equal(b.remaining("k", since), 2500);
  clock.step(8001);
  assert.equal(b.delay("k"), 0, "quiet for more than 2×max");
});

test("Backoff: reset and resetPrefix", () => {
  const b = new Backoff(10, 100, new FakeClock());
  b.next("pod1/a");
  b.next("pod1/b");
  b.next("pod2/a");
  b.resetPrefix("pod1/");
  assert.equal(b.delay("pod1/a"), 0);
  assert.equal(b.delay("pod1/b"), 0);
  assert.equal(b.delay("pod2/a"), 10);
  b.reset("pod2/a");
  assert.equal(b.delay("pod2/a"), 0);
});

test("backoff: first retry at once, then base, doubling, capped", () => {
  const clock = new FakeClock(0);
  const b = new Backoff(10, 40, clock);
  assert.equal(b.remaining("k", 0), 0);
  assert.equal(b.next("k"), 10);
  assert.equal(b.remaining("k", 0), 10);
  clock.step(5);
  assert.equal(b.remaining("k", 0), 5);
  assert.equal(b.next("k"), 20);
  assert.equal(b.next("k"), 40);
  assert.equal(b.next("k"), 40);
  clock.step(995); // quiet for more than 2×max: forgotten
  assert.equal(b.delay("k"), 0);
});
