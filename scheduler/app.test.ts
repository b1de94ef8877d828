import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { SchedulerApp } from "./app.js";

test("run: a shutdown that came before run (a SIGTERM during start-up) ends it, not an error", async () => {
  const app = new SchedulerApp({ client: new FakeClient(), leaderElect: false });
  assert.equal(await app.run(AbortSignal.abort()), "stopped");
});

test("run: a shutdown before the caches synced ends it, not an error", async () => {
  const app = new SchedulerApp({ client: new FakeClient(), leaderElect: false });
  const ac = new AbortController();
  const run = app.run(ac.signal);
  ac.abort();
  assert.equal(await run, "stopped");
});
