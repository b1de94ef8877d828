import assert from "node:assert/strict";
import { test } from "node:test";
import { aborted, shutdownSignal } from "./signals.js";

test("the first signal aborts, the second exits with 1", () => {
  const exits: number[] = [];
  const signal = shutdownSignal({ signals: ["SIGUSR2"], exit: (code) => exits.push(code) });
  assert.equal(signal.aborted, false);
  process.emit("SIGUSR2", "SIGUSR2");
  assert.equal(signal.aborted, true);
  assert.match(String((signal.reason as Error).message), /SIGUSR2/);
  assert.deepEqual(exits, []);
  process.emit("SIGUSR2", "SIGUSR2");
  assert.deepEqual(exits, [1]);
});

test("aborted resolves when the signal aborts, and at once when it already has", async () => {
  const ac = new AbortController();
  let done = false;
  const p = aborted(ac.signal).then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(done, false);
  ac.abort();
  await p;
  assert.equal(done, true);
  // Already aborted: a listener added now would never fire; aborted() must not wait for it.
  await aborted(ac.signal);
  await aborted(AbortSignal.abort());
});
