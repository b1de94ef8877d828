import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock, realClock } from "./clock.js";

test("FakeClock fires timers in time order, only when stepped", () => {
  const clock = new FakeClock(1000);
  const fired: string[] = [];
  clock.after(200, () => fired.push("b"));
  clock.after(100, () => fired.push("a"));
  const cancel = clock.after(150, () => fired.push("cancelled"));
  cancel();
  assert.equal(clock.pending, 2);
  clock.step(99);
  assert.deepEqual(fired, []);
  clock.step(101);
  assert.deepEqual(fired, ["a", "b"]);
  assert.equal(clock.now(), 1200);
});

test("FakeClock sleep resolves on step or abort; advance lets loops re-arm", async () => {
  const clock = new FakeClock();
  let ticks = 0;
  const ac = new AbortController();
  const loop = (async () => {
    while (!ac.signal.aborted) {
      await clock.sleep(1000, ac.signal);
      ticks++;
    }
  })();
  await clock.waitForTimers(1);
  await clock.advance(3500);
  assert.equal(ticks, 3);
  ac.abort();
  await loop;
  assert.equal(clock.pending, 0, "abort cancels the pending timer");
});

test("realClock sleep ends early on abort", async () => {
  const ac = new AbortController();
  const started = Date.now();
  const p = realClock.sleep(60_000, ac.signal);
  ac.abort();
  await p;
  assert.ok(Date.now() - started < 1000);
});
