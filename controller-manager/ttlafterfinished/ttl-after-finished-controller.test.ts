import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { JOBS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Job } from "#pkg/api/types/batch.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/index.js";
import { TTLAfterFinishedController, timeLeft } from "./ttl-after-finished-controller.js";

afterEach(abortFakeContexts);

const T0 = Date.parse("2026-01-01T00:00:00Z");

const job = (ttl: number | undefined, finishedAt?: number): Job => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name: "pi", namespace: "default", uid: "uid-pi" },
  spec: {
    ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}),
    template: { spec: { containers: [{ name: "c", image: "busybox" }] } },
  },
  status:
    finishedAt !== undefined
      ? { conditions: [{ type: "Complete", status: "True", lastTransitionTime: metaTime(finishedAt) }] }
      : {},
});

describe("TTLAfterFinishedController", () => {
  test("deletes a finished Job once its TTL has passed, in the foreground, with a UID precondition", async () => {
    const clock = new FakeClock(T0 + 5000);
    const ctx = fakeControllerContext({ clock });
    const c = new TTLAfterFinishedController(ctx);
    ctx.client.seed(JOBS, job(10, T0));
    await ctx.start();
    await c.sync("default/pi");
    assert.equal(ctx.client.actionsOf("delete", JOBS).length, 0, "not yet: 5 s left");
    assert.equal(c.queue.delayedCount, 1, "queued for when it expires");
    clock.step(5000);
    await c.sync("default/pi");
    const [del] = ctx.client.actionsOf("delete", JOBS);
    assert.deepEqual(del?.options, { propagationPolicy: "Foreground", preconditions: { uid: "uid-pi" } });
  });

  test("leaves unfinished Jobs and Jobs without a TTL alone", async () => {
    const ctx = fakeControllerContext({ clock: new FakeClock(T0 + 60_000) });
    const c = new TTLAfterFinishedController(ctx);
    ctx.client.seed(JOBS, job(undefined, T0));
    await ctx.start();
    await c.sync("default/pi");
    assert.equal(ctx.client.actionsOf("delete", JOBS).length, 0);
    assert.equal(timeLeft(job(30, T0), T0 + 10_000), 20_000);
    assert.throws(() => timeLeft(job(30), T0), /unable to find the time when the Job default\/pi finished/);
  });
});
