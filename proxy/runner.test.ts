import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { BoundedFrequencyRunner } from "./runner.js";

function setup(o: { fail?: () => boolean } = {}) {
  const clock = new FakeClock();
  const runs: number[] = [];
  const runner = new BoundedFrequencyRunner({
    name: "test",
    fn: async () => {
      runs.push(clock.now());
      if (o.fail?.()) throw new Error("boom");
    },
    minIntervalMs: 1000,
    maxIntervalMs: 30_000,
    clock,
    log: silentLogger,
  });
  return { clock, runs, runner, t0: clock.now() };
}

describe("BoundedFrequencyRunner", () => {
  it("runs at once on start, then at most once per min interval however often asked", async () => {
    const { clock, runs, runner, t0 } = setup();
    runner.start();
    await clock.advance(0);
    assert.deepEqual(runs, [t0]);
    for (let i = 0; i < 10; i++) {
      runner.run();
      await clock.advance(50);
    }
    await clock.advance(1000);
    assert.deepEqual(runs, [t0, t0 + 1000]);
    await runner.stop();
  });

  it("runs every max interval when nothing asks", async () => {
    const { clock, runs, runner, t0 } = setup();
    runner.start();
    await clock.advance(61_000);
    assert.deepEqual(runs, [t0, t0 + 30_000, t0 + 60_000]);
    await runner.stop();
  });

  it("a request after a quiet spell runs at once; a failure retries after the min interval", async () => {
    let fail = false;
    const { clock, runs, runner, t0 } = setup({ fail: () => fail });
    runner.start();
    await clock.advance(5000);
    fail = true;
    runner.run();
    await clock.advance(0);
    assert.deepEqual(runs, [t0, t0 + 5000]);
    fail = false;
    await clock.advance(1000);
    assert.deepEqual(runs, [t0, t0 + 5000, t0 + 6000]);
    await runner.stop();
    await clock.advance(60_000);
    assert.equal(runs.length, 3);
  });
});
