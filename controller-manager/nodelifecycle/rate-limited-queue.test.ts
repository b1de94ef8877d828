import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { RateLimitedTimedQueue } from "./rate-limited-queue.js";

test("RateLimitedTimedQueue: processed values stay known until removed", async () => {
  const clock = new FakeClock();
  const q = new RateLimitedTimedQueue(10, clock);
  assert.equal(q.add("n1", "u1"), true);
  assert.equal(q.add("n1", "u1"), false, "queued already");
  const seen: string[] = [];
  await q.try(async (v) => {
    seen.push(v.value);
    return { done: true };
  });
  assert.deepEqual(seen, ["n1"]);
  assert.deepEqual(q.waiting(), []);
  assert.equal(q.add("n1", "u1"), false, "processed: not queued again");
  assert.equal(q.remove("n1"), true);
  assert.equal(q.add("n1", "u1"), true);
});

test("RateLimitedTimedQueue: a retry waits its delay; the bucket limits the rate", async () => {
  const clock = new FakeClock();
  const q = new RateLimitedTimedQueue(1, clock);
  q.add("a", "");
  q.add("b", "");
  const seen: string[] = [];
  let failA = true;
  const fn = async (v: { value: string }) => {
    seen.push(v.value);
    if (v.value === "a" && failA) {
      failA = false;
      return { done: false as const, retryAfterMs: 5_000 };
    }
    return { done: true as const };
  };
  await q.try(fn);
  assert.deepEqual(seen, ["a"], "one token (burst 1)");
  clock.step(1_000);
  await q.try(fn);
  assert.deepEqual(seen, ["a", "b"], "a waits for its retry");
  clock.step(3_000);
  await q.try(fn);
  assert.deepEqual(seen, ["a", "b"]);
  clock.step(2_000);
  await q.try(fn);
  assert.deepEqual(seen, ["a", "b", "a"]);
  q.swapLimiter(0);
  q.remove("a");
  q.add("c", "");
  clock.step(60_000);
  await q.try(fn);
  assert.deepEqual(seen, ["a", "b", "a"], "rate 0 processes nothing");
});
