import assert from "node:assert/strict";
import { test } from "node:test";
import { waitFor } from "../../test/harness/wait.js";
import { FakeClock, flush } from "../runtime/clock.js";
import { silentLogger } from "../runtime/log.js";
import { WorkQueue } from "../workqueue/queue.js";
import { NoRetryError, runWorkers } from "./worker.js";

const until = (cond: () => boolean, what: string) => waitFor(cond, { timeoutMs: 5000, intervalMs: 1, message: what });

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
