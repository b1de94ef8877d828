import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { PodWorkers, type SyncResult } from "./pod-workers.js";

test("PodWorkers: wakes during a sync collapse into one more; idle() resolves when no sync runs", async () => {
  const runs: string[] = [];
  let release: () => void = () => {};
  const workers = new PodWorkers(
    async (uid) => {
      runs.push(uid);
      if (runs.length === 1) await new Promise<void>((r) => (release = r));
      return {};
    },
    { log: silentLogger, signal: new AbortController().signal, resyncMs: 10_000, clock: new FakeClock() },
  );
  await workers.idle();
  workers.wake("a");
  workers.wake("a");
  workers.wake("a");
  const idle = workers.idle();
  assert.equal(workers.busy, true);
  release();
  await idle;
  assert.deepEqual(runs, ["a", "a"], "three wakes during one sync: one more sync");
});

test("PodWorkers: a failing sync is retried with the flowcontrol backoff; a result's requeue is honoured", async () => {
  const clock = new FakeClock();
  const results: Array<SyncResult | Error> = [new Error("x"), new Error("y"), { requeueAfterMs: 3000 }, { done: true }];
  const at: number[] = [];
  const workers = new PodWorkers(
    async () => {
      at.push(clock.now());
      const r = results.shift();
      if (r instanceof Error) throw r;
      return r ?? {};
    },
    { log: silentLogger, signal: new AbortController().signal, resyncMs: 10_000, clock },
  );
  const t0 = clock.now();
  workers.wake("p");
  await workers.idle();
  await clock.advance(500);
  await workers.idle();
  await clock.advance(1000);
  await workers.idle();
  await clock.advance(3000);
  await workers.idle();
  assert.deepEqual(
    at.map((t) => t - t0),
    [0, 500, 1500, 4500],
  );
  assert.deepEqual(workers.known(), [], "done drops the worker");
});
