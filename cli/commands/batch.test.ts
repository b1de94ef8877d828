import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CronJob } from "#pkg/api/types/batch.js";
import { capIndexes } from "../describe/batch.js";
import { cronJobFor, jobFor, jobFromCronJob } from "./batch.js";

describe("create job / cronjob objects", () => {
  test("kubectl create job's Job: one container named after the job, the command, restartPolicy Never", () => {
    assert.deepEqual(jobFor("pi", "perl:5", ["perl", "-e", "1"]), {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { creationTimestamp: null, name: "pi" },
      spec: {
        template: {
          metadata: { creationTimestamp: null },
          spec: {
            containers: [{ name: "pi", image: "perl:5", command: ["perl", "-e", "1"], resources: {} }],
            restartPolicy: "Never",
          },
        },
      },
      status: {},
    });
  });

  test("kubectl create cronjob's CronJob: the job template named too, restartPolicy OnFailure by default", () => {
    const cj = cronJobFor("tick", { image: "busybox", schedule: "*/1 * * * *", restart: "OnFailure" }, []) as CronJob;
    assert.equal(cj.spec?.schedule, "*/1 * * * *");
    assert.equal(cj.spec?.jobTemplate.metadata?.name, "tick");
    assert.equal(cj.spec?.jobTemplate.spec?.template.spec?.restartPolicy, "OnFailure");
    assert.deepEqual(cj.spec?.jobTemplate.spec?.template.spec?.containers, [
      { name: "tick", image: "busybox", resources: {} },
    ]);
  });

  test("--from=cronjob: the template's labels and annotations, instantiate=manual, owned without blockOwnerDeletion", () => {
    const cj = {
      metadata: { name: "tick", uid: "u1" },
      spec: {
        schedule: "@hourly",
        jobTemplate: { metadata: { labels: { a: "b" }, annotations: { x: "y" } }, spec: { template: {} } },
      },
    } as unknown as CronJob;
    const job = jobFromCronJob("manual", cj);
    assert.deepEqual(job.metadata.annotations, { "cronjob.kubernetes.io/instantiate": "manual", x: "y" });
    assert.deepEqual(job.metadata.labels, { a: "b" });
    assert.deepEqual(job.metadata.ownerReferences, [
      { apiVersion: "batch/v1", kind: "CronJob", name: "tick", uid: "u1", controller: true },
    ]);
  });

  test("describe's completed indexes: cut after the first comma past 50 characters", () => {
    assert.equal(capIndexes(undefined), "<none>");
    assert.equal(capIndexes("0-2"), "0-2");
    const long = Array.from({ length: 40 }, (_, i) => String(i * 2)).join(",");
    const capped = capIndexes(long);
    assert.ok(capped.endsWith(",...") && capped.length < long.length, capped);
  });
});
