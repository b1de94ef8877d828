// batch/v1 validation as upstream's pkg/apis/batch/validation: Jobs (generated selector, restart
// policy, Indexed completions, podFailurePolicy, immutable template) and CronJobs (robfig's schedule
// errors, TZ in the schedule, timeZone, the job template's selector).

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cronScheduleError, parseCronSchedule } from "#pkg/api/cron.js";
import { registry } from "#pkg/api/resources.js";
import type { CronJob, Job } from "#pkg/api/types/batch.js";
import { strategyFor } from "../strategies.js";

const res = (name: string) => {
  const r = registry.lookup(name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
};

function create<T extends Job | CronJob>(resource: string, obj: T) {
  const s = strategyFor(res(resource));
  const o = structuredClone(obj);
  o.metadata.uid = "uid-1";
  s.applyDefaults(o);
  s.prepareForCreate(o);
  return { obj: o, errors: s.validate(o).map((e) => `${e.field}: ${e.message}`) };
}

function update<T extends Job | CronJob>(resource: string, next: T, old: T) {
  const s = strategyFor(res(resource));
  const o = structuredClone(next);
  s.applyDefaults(o);
  s.prepareForUpdate(o, old);
  return s.validateUpdate(o, old).map((e) => `${e.field}: ${e.message}`);
}

const job = (spec: Partial<NonNullable<Job["spec"]>> = {}, name = "pi"): Job => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, namespace: "default" },
  spec: {
    template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } },
    ...spec,
  },
});

const cronJob = (spec: Partial<NonNullable<CronJob["spec"]>> = {}): CronJob => ({
  apiVersion: "batch/v1",
  kind: "CronJob",
  metadata: { name: "tick", namespace: "default" },
  spec: {
    schedule: "*/1 * * * *",
    jobTemplate: { spec: job().spec },
    ...spec,
  } as NonNullable<CronJob["spec"]>,
});

describe("Job validation", () => {
  test("the generated selector and labels", () => {
    const { obj, errors } = create("jobs", job());
    assert.deepEqual(errors, []);
    assert.deepEqual(obj.spec?.template.metadata?.labels, {
      "batch.kubernetes.io/controller-uid": "uid-1",
      "batch.kubernetes.io/job-name": "pi",
      "controller-uid": "uid-1",
      "job-name": "pi",
    });
    // A template label fighting the generated one is refused.
    const bad = job();
    bad.spec!.template.metadata = { labels: { "controller-uid": "other" } };
    assert.deepEqual(create("jobs", bad).errors, [
      'spec.template.metadata.labels[controller-uid]: Invalid value: {"controller-uid":"other","job-name":"pi","batch.kubernetes.io/job-name":"pi","batch.kubernetes.io/controller-uid":"uid-1"}: must be \'uid-1\'',
    ]);
  });

  test("a manual selector must match the template's labels", () => {
    const manual = job({ manualSelector: true, selector: { matchLabels: { app: "x" } } });
    manual.spec!.template.metadata = { labels: { app: "y" } };
    assert.deepEqual(create("jobs", manual).errors, [
      'spec.template.metadata.labels: Invalid value: {"app":"y"}: `selector` does not match template `labels`',
    ]);
  });

  test("restartPolicy OnFailure or Never; Indexed needs completions and a DNS-label hostname", () => {
    const always = job();
    always.spec!.template.spec!.restartPolicy = "Always";
    assert.deepEqual(create("jobs", always).errors, [
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    ]);
    assert.deepEqual(create("jobs", job({ completionMode: "Indexed" })).errors.length, 0, "completions defaulted to 1");
    assert.deepEqual(create("jobs", job({ completionMode: "Indexed", parallelism: 2 })).errors, [
      "spec.completions: Required value: when completion mode is Indexed",
    ]);
    const long = "a".repeat(62);
    assert.deepEqual(create("jobs", job({ completionMode: "Indexed", completions: 10 }, long)).errors, [
      `metadata.name: Invalid value: "${long}": will not able to create pod with invalid DNS label: ${long}-9`,
    ]);
  });

  test("backoffLimitPerIndex only for Indexed Jobs; maxFailedIndexes only with it", () => {
    assert.deepEqual(create("jobs", job({ backoffLimitPerIndex: 1 })).errors, [
      "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
    ]);
    assert.deepEqual(create("jobs", job({ completionMode: "Indexed", completions: 2, maxFailedIndexes: 1 })).errors, [
      "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
    ]);
    const ok = create("jobs", job({ completionMode: "Indexed", completions: 2, backoffLimitPerIndex: 1 }));
    assert.deepEqual(ok.errors, []);
    assert.equal(ok.obj.spec?.backoffLimit, 2147483647, "the global limit defaults to unlimited");
  });

  test("successPolicy only for Indexed Jobs", () => {
    const policy = { rules: [{ succeededIndexes: "0" }] };
    assert.deepEqual(create("jobs", job({ successPolicy: policy })).errors, [
      'spec.completionMode: Invalid value: "NonIndexed": requires indexed completion mode',
    ]);
    assert.deepEqual(
      create("jobs", job({ successPolicy: policy, completionMode: "Indexed", completions: 2 })).errors,
      [],
    );
  });

  test("podFailurePolicy rules; only with restartPolicy Never", () => {
    const policy = {
      rules: [
        { action: "FailJob", onExitCodes: { containerName: "c", operator: "In", values: [42] } },
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget" }] },
      ],
    };
    assert.deepEqual(create("jobs", job({ podFailurePolicy: policy })).errors, []);
    const onFailure = job({ podFailurePolicy: policy });
    onFailure.spec!.template.spec!.restartPolicy = "OnFailure";
    assert.deepEqual(create("jobs", onFailure).errors, [
      'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified',
    ]);
    const bad = {
      rules: [
        { action: "Explode", onExitCodes: { containerName: "nope", operator: "In", values: [0, 3, 2] } },
        { action: "Count" },
      ],
    };
    assert.deepEqual(create("jobs", job({ podFailurePolicy: bad })).errors, [
      'spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode": supported values: "Count", "FailIndex", "FailJob", "Ignore"',
      'spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope": must be one of the container or initContainer names in the pod template',
      "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
      "spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Invalid value: 2: must be ordered",
      'spec.podFailurePolicy.rules[1]: Invalid value: "": specifying one of OnExitCodes and OnPodConditions is required',
    ]);
  });

  test("the template and selector are immutable", () => {
    const { obj } = create("jobs", job());
    const next = structuredClone(obj);
    next.spec!.template.spec!.containers[0]!.image = "busybox:2";
    assert.deepEqual(update("jobs", next, obj), [
      `spec.template: Invalid value: ${JSON.stringify(next.spec?.template)}: field is immutable`,
    ]);
  });
});

describe("CronJob validation", () => {
  test("schedules refused with robfig/cron's messages", () => {
    const errs = (schedule: string) => create("cronjobs", cronJob({ schedule })).errors;
    assert.deepEqual(errs("*/1 * * * *"), []);
    assert.deepEqual(errs("@hourly"), []);
    assert.deepEqual(errs("* * * *"), [
      'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
    ]);
    assert.deepEqual(errs("61 * * * *"), [
      'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ]);
    assert.deepEqual(errs("@fortnightly"), [
      'spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly',
    ]);
    assert.deepEqual(errs("TZ=UTC 0 * * * *"), [
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
  });

  test("timeZone", () => {
    const errs = (timeZone: string) => create("cronjobs", cronJob({ timeZone })).errors;
    assert.deepEqual(errs("Europe/Paris"), []);
    assert.deepEqual(errs("Mars/Olympus"), [
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ]);
    assert.deepEqual(errs("Local"), [
      'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
    ]);
    assert.deepEqual(errs(""), ['spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string']);
  });

  test("the job template's selector is generated; defaults", () => {
    const withSelector = cronJob();
    withSelector.spec!.jobTemplate.spec!.selector = { matchLabels: { a: "b" } };
    assert.deepEqual(create("cronjobs", withSelector).errors, [
      'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated',
    ]);
    const { obj } = create("cronjobs", cronJob());
    assert.equal(obj.spec?.concurrencyPolicy, "Allow");
    assert.equal(obj.spec?.successfulJobsHistoryLimit, 3);
    assert.equal(obj.spec?.failedJobsHistoryLimit, 1);
    assert.equal(obj.spec?.suspend, false);
  });
});

describe("cron schedules", () => {
  test("next times: macros, steps, time zones, @every, day-of-month OR day-of-week", () => {
    const next = (spec: string, from: string, tz?: string) =>
      parseCronSchedule(spec, tz).next(new Date(from)).toISOString();
    assert.equal(next("*/1 * * * *", "2026-01-01T00:01:00Z"), "2026-01-01T00:02:00.000Z");
    assert.equal(next("@hourly", "2026-01-01T00:01:00Z"), "2026-01-01T01:00:00.000Z");
    assert.equal(next("0 9 * * *", "2026-01-01T00:00:00Z", "America/New_York"), "2026-01-01T14:00:00.000Z");
    assert.equal(next("@every 90s", "2026-01-01T00:00:00.500Z"), "2026-01-01T00:01:30.000Z");
    // Both restricted: either matches (June 7 2026 is a Sunday).
    assert.equal(next("0 0 10 * 0", "2026-06-01T00:00:00Z"), "2026-06-07T00:00:00.000Z");
    // "*/1" is a wildcard as "*": only Mondays.
    assert.equal(next("0 0 */1 * 1", "2026-06-01T00:00:00Z"), "2026-06-08T00:00:00.000Z");
    assert.equal(cronScheduleError("0 0 * JAN-MAR MON-FRI"), undefined);
    assert.equal(cronScheduleError("* * * * 7"), "end of range (7) above maximum (6): 7");
  });
});
