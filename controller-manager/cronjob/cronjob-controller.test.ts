import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import { parseCronSchedule } from "#pkg/api/cron.js";
import { CRONJOBS, JOBS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { CronJob, Job } from "#pkg/api/types/batch.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { waitFor } from "../../test/harness/wait.js";
import { CronJobController, mostRecentScheduleTime, rfc3339In } from "./cronjob-controller.js";

afterEach(abortFakeContexts);

const T0 = Date.parse("2026-01-01T00:00:00Z");
const MIN = 60_000;

function cronJob(spec: Partial<NonNullable<CronJob["spec"]>> = {}, status?: CronJob["status"]): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "tick", namespace: "default", uid: "uid-tick", creationTimestamp: metaTime(T0) },
    spec: {
      schedule: "*/1 * * * *",
      concurrencyPolicy: "Allow",
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      jobTemplate: {
        metadata: { labels: { app: "tick" } },
        spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
      },
      ...spec,
    } as NonNullable<CronJob["spec"]>,
    ...(status ? { status } : {}),
  };
}

async function rig(cj: CronJob, now: number, jobs: Job[] = []) {
  const clock = new FakeClock(now);
  const ctx = fakeControllerContext({ clock });
  const controller = new CronJobController(ctx);
  ctx.client.seed(CRONJOBS, cj);
  for (const j of jobs) ctx.client.seed(JOBS, j);
  await ctx.start();
  return { ctx, client: ctx.client, controller, clock, events: ctx.events };
}

const jobsOf = async (client: FakeClient) => (await client.list(JOBS, "default")).items;
const cjOf = (client: FakeClient) => client.object<CronJob>(CRONJOBS, "default", "tick");

function ownedJob(name: string, o: { finished?: "Complete" | "Failed"; start?: number } = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          name: "tick",
          uid: "uid-tick",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { template: { spec: { containers: [{ name: "c", image: "busybox" }] } } },
    status: {
      ...(o.start !== undefined ? { startTime: metaTime(o.start) } : {}),
      ...(o.finished
        ? {
            conditions: [{ type: o.finished, status: "True" }],
            ...(o.finished === "Complete" && o.start !== undefined ? { completionTime: metaTime(o.start + 1000) } : {}),
          }
        : {}),
    },
  };
}

/** Waits until the controller's job informer holds n Jobs (status writes need a synced cache). */
async function cached(r: Awaited<ReturnType<typeof rig>>, n: number): Promise<void> {
  await waitFor(() => r.ctx.informers.informer(JOBS).list().length === n, {
    timeoutMs: 5000,
    message: `${n} cached jobs`,
  });
}

describe("CronJobController", () => {
  test("creates the Job of each scheduled minute, named and annotated as upstream, and waits for the next", async () => {
    const r = await rig(cronJob(), T0 + 30_000);
    assert.equal(await r.controller.sync("default/tick"), 30_100, "wakes just after 00:01");
    assert.equal((await jobsOf(r.client)).length, 0);
    r.clock.step(30_100);
    const after = await r.controller.sync("default/tick");
    const [job] = await jobsOf(r.client);
    assert.equal(job?.metadata.name, `tick-${(T0 + MIN) / MIN}`);
    assert.equal(
      job?.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"],
      "2026-01-01T00:01:00Z",
    );
    assert.deepEqual(job?.metadata.labels, { app: "tick" });
    assert.equal(job?.metadata.ownerReferences?.[0]?.kind, "CronJob");
    const st = cjOf(r.client)?.status;
    assert.equal(st?.lastScheduleTime, "2026-01-01T00:01:00Z");
    assert.deepEqual(
      st?.active?.map((a) => a.name),
      [job?.metadata.name],
    );
    assert.equal(after, MIN, "next: 00:02:00.1");
    assert.deepEqual(r.events.reasons(), ["SuccessfulCreate"]);
    // The same minute again creates nothing (the name is the lock).
    await cached(r, 1);
    await r.controller.sync("default/tick");
    assert.equal((await jobsOf(r.client)).length, 1);
  });

  test("missed schedules: one Job for the most recent time, a warning past 100 missed", async () => {
    const cj = cronJob({}, { lastScheduleTime: metaTime(T0 + MIN) });
    const r = await rig(cj, T0 + 5 * 60 * MIN + 10_000);
    await r.controller.sync("default/tick");
    const jobs = await jobsOf(r.client);
    assert.equal(jobs.length, 1, "no flood after downtime");
    assert.equal(jobs[0]?.metadata.name, `tick-${(T0 + 5 * 60 * MIN) / MIN}`);
    assert.deepEqual(r.events.reasons(), ["TooManyMissedTimes", "SuccessfulCreate"]);

    const sched = parseCronSchedule("*/1 * * * *");
    const few = mostRecentScheduleTime(cj, T0 + 5 * MIN + 1000, sched, false);
    assert.deepEqual(few, { earliest: T0 + MIN, mostRecent: T0 + 5 * MIN, missed: "few" });
    const many = mostRecentScheduleTime(cj, T0 + 200 * MIN, sched, false);
    assert.equal(many.missed, "many");
    // startingDeadlineSeconds bounds how far back the controller looks.
    const bounded = cronJob({ startingDeadlineSeconds: 200 }, { lastScheduleTime: metaTime(T0 + MIN) });
    assert.equal(mostRecentScheduleTime(bounded, T0 + 200 * MIN, sched, true).missed, "few");
  });

  test("startingDeadlineSeconds: a time too far past starts nothing", async () => {
    const r = await rig(cronJob({ startingDeadlineSeconds: 10 }), T0 + MIN + 30_000);
    const after = await r.controller.sync("default/tick");
    assert.equal((await jobsOf(r.client)).length, 0);
    assert.equal(after, 30_100);
  });

  test("Forbid skips while a Job runs; Replace deletes it and starts the new one", async () => {
    const running = ownedJob(`tick-${(T0 + MIN) / MIN}`, { start: T0 + MIN });
    const status = {
      lastScheduleTime: metaTime(T0 + MIN),
      active: [
        {
          kind: "Job",
          namespace: "default",
          name: running.metadata.name,
          uid: running.metadata.uid,
          apiVersion: "batch/v1",
        },
      ],
    };
    const forbid = await rig(cronJob({ concurrencyPolicy: "Forbid" }, status), T0 + 2 * MIN + 100, [running]);
    await forbid.controller.sync("default/tick");
    assert.deepEqual(
      (await jobsOf(forbid.client)).map((j) => j.metadata.name),
      [running.metadata.name],
    );
    assert.deepEqual(forbid.events.reasons(), ["JobAlreadyActive"]);
    abortFakeContexts();

    const replace = await rig(cronJob({ concurrencyPolicy: "Replace" }, status), T0 + 2 * MIN + 100, [running]);
    await replace.controller.sync("default/tick");
    assert.deepEqual(
      (await jobsOf(replace.client)).map((j) => j.metadata.name),
      [`tick-${(T0 + 2 * MIN) / MIN}`],
    );
    assert.deepEqual(replace.events.reasons(), ["SuccessfulDelete", "SuccessfulCreate"]);
    assert.deepEqual(
      cjOf(replace.client)?.status?.active?.map((a) => a.name),
      [`tick-${(T0 + 2 * MIN) / MIN}`],
    );
  });

  test("a finished Job leaves status.active (SawCompletedJob), lastSuccessfulTime; history limits prune the oldest", async () => {
    const done = [1, 2, 3, 4, 5].map((i) => ownedJob(`tick-ok${i}`, { finished: "Complete", start: T0 + i * 1000 }));
    const failed = [1, 2].map((i) => ownedJob(`tick-bad${i}`, { finished: "Failed", start: T0 + i * 1000 }));
    const status = {
      lastScheduleTime: metaTime(T0),
      active: [{ kind: "Job", namespace: "default", name: "tick-ok5", uid: "uid-tick-ok5", apiVersion: "batch/v1" }],
    };
    const r = await rig(cronJob({ suspend: true }, status), T0 + 30_000, [...done, ...failed]);
    await r.controller.sync("default/tick");
    assert.deepEqual((await jobsOf(r.client)).map((j) => j.metadata.name).sort(), [
      "tick-bad2",
      "tick-ok3",
      "tick-ok4",
      "tick-ok5",
    ]);
    const st = cjOf(r.client)?.status;
    assert.equal(st?.active, undefined);
    assert.ok(r.events.reasons().includes("SawCompletedJob"));
    assert.equal(r.events.reasons().filter((x) => x === "SuccessfulDelete").length, 3);
    // lastSuccessfulTime comes from the finished Jobs not in the active list.
    assert.equal(st?.lastSuccessfulTime, metaTime(T0 + 4 * 1000 + 1000));
  });

  test("suspend: a due schedule creates no Job and nothing is queued; resuming runs the most recent missed time once", async () => {
    const r = await rig(cronJob({ suspend: true }), T0 + MIN + 30_000);
    assert.equal(await r.controller.sync("default/tick"), undefined, "a suspended CronJob is not requeued (upstream)");
    assert.equal((await jobsOf(r.client)).length, 0, "00:01 is due, but suspended");
    assert.deepEqual(r.events.reasons(), []);

    // Run the controller: three more minutes pass while suspended.
    const stop = new AbortController();
    after(() => stop.abort());
    void r.controller.run(stop.signal, 1);
    await waitFor(() => r.controller.queue.length === 0 && r.controller.queue.processingCount === 0, {
      timeoutMs: 5000,
      message: "initial sync done",
    });
    await r.clock.advance(3 * MIN);
    assert.equal((await jobsOf(r.client)).length, 0, "still no Job at 00:04:30");
    assert.equal(r.controller.queue.delayedCount, 0, "no wake-up armed while suspended");

    // Resuming: one Job, for the most recent missed time (00:04), not one per missed minute.
    const cur = cjOf(r.client) as CronJob;
    await r.client.update(CRONJOBS, "default", { ...cur, spec: { ...cur.spec, suspend: false } } as CronJob);
    await waitFor(async () => (await jobsOf(r.client)).length > 0, { timeoutMs: 5000, message: "a Job after resume" });
    await waitFor(() => cjOf(r.client)?.status?.lastScheduleTime !== undefined, {
      timeoutMs: 5000,
      message: "status written",
    });
    assert.deepEqual(
      (await jobsOf(r.client)).map((j) => j.metadata.name),
      [`tick-${(T0 + 4 * MIN) / MIN}`],
    );
    assert.equal(cjOf(r.client)?.status?.lastScheduleTime, "2026-01-01T00:04:00Z");
    assert.deepEqual(r.events.reasons(), ["SuccessfulCreate"]);

    // And the schedule goes on: the 00:05 Job on time.
    await waitFor(() => r.controller.queue.delayedCount === 1, { timeoutMs: 5000, message: "next wake-up armed" });
    await r.clock.advance(30_100);
    await waitFor(async () => (await jobsOf(r.client)).length === 2, { timeoutMs: 5000, message: "the 00:05 Job" });
    assert.ok((await jobsOf(r.client)).some((j) => j.metadata.name === `tick-${(T0 + 5 * MIN) / MIN}`));
  });

  test("suspend: resuming past startingDeadlineSeconds skips the missed times and waits for the next", async () => {
    const r = await rig(
      cronJob({ suspend: true, startingDeadlineSeconds: 20 }, { lastScheduleTime: metaTime(T0) }),
      T0 + 3 * MIN + 30_000,
    );
    assert.equal(await r.controller.sync("default/tick"), undefined);
    const cur = cjOf(r.client) as CronJob;
    await r.client.update(CRONJOBS, "default", { ...cur, spec: { ...cur.spec, suspend: false } } as CronJob);
    await waitFor(() => r.ctx.informers.informer(CRONJOBS).list()[0]?.spec?.suspend === false, {
      timeoutMs: 5000,
      message: "resumed CronJob cached",
    });
    assert.equal(await r.controller.sync("default/tick"), 30_100, "wakes at 00:04:00.1");
    assert.equal((await jobsOf(r.client)).length, 0, "00:03 is 30 s past, beyond the 20 s deadline");
    // As upstream, the deadline moves the earliest time considered, so the missed times are not even seen.
    assert.deepEqual(r.events.reasons(), []);
    r.clock.step(30_100);
    await r.controller.sync("default/tick");
    assert.deepEqual(
      (await jobsOf(r.client)).map((j) => j.metadata.name),
      [`tick-${(T0 + 4 * MIN) / MIN}`],
    );
  });

  test("suspend: an active Job keeps running and stays in status.active", async () => {
    const running = ownedJob(`tick-${(T0 + MIN) / MIN}`, { start: T0 + MIN });
    const status = {
      lastScheduleTime: metaTime(T0 + MIN),
      active: [
        {
          kind: "Job",
          namespace: "default",
          name: running.metadata.name,
          uid: running.metadata.uid,
          apiVersion: "batch/v1",
        },
      ],
    };
    const r = await rig(cronJob({ suspend: true }, status), T0 + 5 * MIN + 100, [running]);
    await r.controller.sync("default/tick");
    assert.deepEqual(
      (await jobsOf(r.client)).map((j) => j.metadata.name),
      [running.metadata.name],
    );
    assert.equal(r.client.actionsOf("delete", JOBS).length, 0);
    assert.deepEqual(
      cjOf(r.client)?.status?.active?.map((a) => a.name),
      [running.metadata.name],
    );
  });

  test("timeZone: the schedule is read in the zone, the annotation carries its offset", async () => {
    // 09:00 in New York is 14:00 UTC in January.
    const r = await rig(
      cronJob({ schedule: "0 9 * * *", timeZone: "America/New_York" }),
      Date.parse("2026-01-01T14:00:05Z"),
    );
    await r.controller.sync("default/tick");
    const [job] = await jobsOf(r.client);
    assert.equal(
      job?.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"],
      "2026-01-01T09:00:00-05:00",
    );
    assert.equal(rfc3339In(Date.parse("2026-07-01T13:00:00Z"), "America/New_York"), "2026-07-01T09:00:00-04:00");
  });
});
