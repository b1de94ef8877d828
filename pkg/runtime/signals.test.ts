import assert from "node:assert/strict";
import { test } from "node:test";
import { shutdownSignal } from "./signals.js";

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
