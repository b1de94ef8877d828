import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock, flush } from "../runtime/clock.js";
import { silentLogger } from "../runtime/log.js";
import { WorkQueue } from "../workqueue/queue.js";
import { NoRetryError, runWorkers } from "./worker.js";

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await flush();
  }
}

test("runWorkers: failures retry with backoff, success forgets, one worker per key, abort stops", async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  const ac = new AbortController();
  const calls: string[] = [];
  let active = 0;
  let maxActiveForA = 0;
  let failA = 2;
  const done = runWorkers(
    q,
    3,
    async (key) => {
      calls.push(key);
      if (key === "a") {
        active++;
        maxActiveForA = Math.max(maxActiveForA, active);
        await flush();
        active--;
        if (failA-- > 0) throw new Error("transient");
      }
      if (key === "bad") throw new NoRetryError("permanent");
    },
    ac.signal,
    silentLogger,
  );
  q.add("a");
  q.add("bad");
  await until(() => calls.length === 2 && q.processingCount === 0, "first round");
  // First failure: retried after 5 ms on the clock, not before.
  await until(() => clock.pending === 1, "first retry timer");
  assert.equal(clock.nextAt()! - clock.now(), 5);
  await clock.advance(5);
  await until(() => calls.filter((c) => c === "a").length === 2 && clock.pending === 1, "second retry timer");
  assert.equal(clock.nextAt()! - clock.now(), 10);
  await clock.advance(10);
  await until(() => calls.filter((c) => c === "a").length === 3, "a third attempt");
  await until(() => q.processingCount === 0, "idle");
  assert.equal(q.numRequeues("a"), 0, "success forgets");
  assert.equal(q.numRequeues("bad"), 0);
  assert.equal(calls.filter((c) => c === "bad").length, 1, "NoRetryError drops the key");
  assert.equal(maxActiveForA, 1);
  ac.abort();
  await done;
  assert.ok(q.shuttingDown);
});
