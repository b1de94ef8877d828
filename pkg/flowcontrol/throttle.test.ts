import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../runtime/clock.js";
import { TokenBucketRateLimiter } from "./throttle.js";

test("TokenBucketRateLimiter: burst at once, then qps tokens a second", () => {
  const clock = new FakeClock();
  const l = new TokenBucketRateLimiter(0.1, 1, clock);
  assert.equal(l.tryAccept(), true);
  assert.equal(l.tryAccept(), false);
  clock.step(9_000);
  assert.equal(l.tryAccept(), false);
  clock.step(1_000);
  assert.equal(l.tryAccept(), true);
  // Saved tokens never exceed the burst.
  clock.step(100_000);
  assert.equal(l.tryAccept(), true);
  assert.equal(l.tryAccept(), false);
});

test("TokenBucketRateLimiter: qps 0 accepts nothing", () => {
  const clock = new FakeClock();
  const l = new TokenBucketRateLimiter(0, 1, clock);
  assert.equal(l.tryAccept(), false);
  clock.step(60_000);
  assert.equal(l.tryAccept(), false);
});
