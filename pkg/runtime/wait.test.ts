import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../flowcontrol/backoff.js";
import { FakeClock } from "./clock.js";
import { exponentialBackoff, jitter, jitterUntil, pollUntil, until } from "./wait.js";

test("until: runs fn every period until the signal aborts", async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const runs: number[] = [];
  const done = until(
    () => {
      runs.push(clock.now());
      if (runs.length === 3) ac.abort();
    },
    1000,
    ac.signal,
    { clock },
  );
  while (runs.length < 3) await clock.advance(1000);
  await done;
  assert.deepEqual(
    runs.map((t) => t - (runs[0] as number)),
    [0, 1000, 2000],
  );
});

test("jitterUntil: errors go to onError and the loop goes on", async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const errors: unknown[] = [];
  let n = 0;
  const done = jitterUntil(
    () => {
      n++;
      if (n === 2) ac.abort();
      throw new Error(`boom ${n}`);
    },
    10,
    ac.signal,
    { clock, onError: (e) => errors.push(e) },
  );
  while (n < 2) await clock.advance(10);
  await done;
  assert.equal(errors.length, 2);
});

test("jitterUntil: without onError the error ends the loop", async () => {
  const ac = new AbortController();
  await assert.rejects(
    jitterUntil(
      () => {
        throw new Error("boom");
      },
      10,
      ac.signal,
    ),
    /boom/,
  );
});

test("jitter: between d and d·(1+factor)", () => {
  assert.equal(
    jitter(100, 0.5, () => 0),
    100,
  );
  assert.equal(
    jitter(100, 0.5, () => 1),
    150,
  );
  assert.equal(
    jitter(100, 0, () => 1),
    200,
  );
});

test("pollUntil: true when the condition holds, false at the timeout", async () => {
  const clock = new FakeClock();
  let calls = 0;
  const ok = pollUntil(() => ++calls === 3, 100, { clock, immediate: true });
  while (calls < 3) await clock.advance(100);
  assert.equal(await ok, true);
  const late = pollUntil(() => false, 100, { clock, timeoutMs: 250 });
  await clock.advance(1000);
  assert.equal(await late, false);
});

test("until: a zero period runs fn back to back, yielding to the event loop in between", async () => {
  const ac = new AbortController();
  let runs = 0;
  let yielded = false;
  setImmediate(() => {
    yielded = true;
  });
  const started = performance.now();
  await until(
    () => {
      runs++;
      if (runs === 200) ac.abort();
    },
    0,
    ac.signal,
  );
  assert.ok(yielded, "other callbacks ran between calls");
  // 200 one-millisecond timers would take at least 200 ms.
  assert.ok(performance.now() - started < 150, `took ${performance.now() - started} ms`);
});

test("exponentialBackoff: retries after the backoff's delays until the condition holds; false once aborted", async () => {
  const clock = new FakeClock();
  const backoff = new Backoff(100, 400, clock);
  const at: number[] = [];
  const t0 = clock.now();
  const done = exponentialBackoff(
    () => {
      at.push(clock.now() - t0);
      return at.length === 5;
    },
    backoff,
    new AbortController().signal,
    { clock, key: "k" },
  );
  while (at.length < 5) await clock.advance(100);
  assert.equal(await done, true);
  assert.deepEqual(at, [0, 100, 300, 700, 1100]);
  assert.equal(backoff.delay("k"), 0, "reset on success");

  const ac = new AbortController();
  let calls = 0;
  const aborted = exponentialBackoff(
    () => {
      calls++;
      return false;
    },
    backoff,
    ac.signal,
    { clock },
  );
  await clock.waitForTimers();
  ac.abort();
  assert.equal(await aborted, false);
  assert.equal(calls, 1);
});
