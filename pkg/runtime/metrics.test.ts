import assert from "node:assert/strict";
import { test } from "node:test";
import { counterFunc, gaugeFunc, newRegistry } from "./metrics.js";

test("gaugeFunc and counterFunc read the component's state at every scrape", async () => {
  const registry = newRegistry({ processMetrics: false });
  const state = { pending: 2, bound: { ok: 3, failed: 0 } };
  gaugeFunc({ name: "test_pending", help: "Pending.", registry, read: () => state.pending });
  counterFunc({
    name: "test_bindings_total",
    help: "Bindings.",
    labelNames: ["result"],
    registry,
    read: () => [
      [{ result: "ok" }, state.bound.ok],
      [{ result: "failed" }, state.bound.failed],
    ],
  });
  let text = await registry.metrics();
  assert.match(text, /^test_pending 2$/m);
  assert.match(text, /^# TYPE test_bindings_total counter$/m);
  assert.match(text, /^test_bindings_total\{result="ok"\} 3$/m);
  assert.match(text, /^test_bindings_total\{result="failed"\} 0$/m);
  state.pending = 0;
  state.bound.ok = 5;
  text = await registry.metrics();
  assert.match(text, /^test_pending 0$/m);
  assert.match(text, /^test_bindings_total\{result="ok"\} 5$/m);
});
