// batch/v1 CronJob (upstream pkg/registry/batch/cronjob/strategy.go, pkg/apis/batch/validation, printers.go).

import { cronScheduleError, isKnownTimeZone } from "#pkg/api/cron.js";
import { formatAge } from "#pkg/api/duration.js";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { CronJob } from "#pkg/api/types/batch.js";
import { defaultTemplate } from "../../apps/template.js";
import {
  age,
  ageCol,
  col,
  containerCells,
  containersCol,
  imagesCol,
  makeStrategy,
  nameCol,
  selectorString,
} from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { nonNegative, validateJobSpec } from "../job/strategy.js";

/**
 * upstream validateScheduleFormat: robfig's ParseStandard message, and TZ=/CRON_TZ= in the
 * schedule refused unless the stored object already had it (then not together with timeZone).
 */
export function cronScheduleErrors(schedule: string, o: { allowTZ?: boolean; timeZone?: string } = {}): string[] {
  const errs: string[] = [];
  const parseErr = cronScheduleError(schedule);
  if (parseErr !== undefined) errs.push(parseErr);
  if (o.allowTZ && schedule.includes("TZ") && o.timeZone !== undefined) {
    errs.push("cannot use both timeZone field and TZ or CRON_TZ in schedule");
  } else if (!o.allowTZ && schedule.includes("TZ")) {
    errs.push("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  }
  return errs;
}

const TIME_ZONE_PART = /^[A-Za-z.\-_0-9+]{1,14}$/;

/** upstream validateTimeZone. */
export function timeZoneErrors(tz: string | undefined): string[] {
  if (tz === undefined) return [];
  if (tz.length === 0) return ["timeZone must be nil or non-empty string"];
  for (const part of tz.split("/")) {
    if (part === "." || part === ".." || part.startsWith("-") || !TIME_ZONE_PART.test(part)) {
      return [`unknown time zone ${tz}`];
    }
  }
  if (tz.toLowerCase() === "local") {
    return ["timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"];
  }
  if (!isKnownTimeZone(tz)) return [`unknown time zone ${tz}`];
  return [];
}

function defaultCronJob(cj: CronJob): void {
  const spec = cj.spec;
  if (!spec || typeof spec !== "object") return;
  spec.concurrencyPolicy ??= "Allow";
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  // Job templates get the template defaults but not completions/parallelism (upstream).
  const js = spec.jobTemplate?.spec;
  if (js && typeof js === "object") {
    js.backoffLimit ??= 6;
    js.completionMode ??= "NonIndexed";
    js.suspend ??= false;
    js.podReplacementPolicy ??= "TerminatingOrFailed";
    defaultTemplate(js.template);
  }
}

function validateCronJob(cj: CronJob, old?: CronJob): FieldError[] {
  const errs: FieldError[] = [];
  const name = cj.metadata.name ?? "";
  if (name.length > 52) errs.push(fieldInvalid("metadata.name", name, "must be no more than 52 characters"));
  const spec = cj.spec;
  if (!spec) return [...errs, fieldRequired("spec")];
  const allowTZ = old?.spec?.schedule?.includes("TZ") ?? false;
  if (!spec.schedule) errs.push(fieldRequired("spec.schedule"));
  else {
    const o = { allowTZ, ...(spec.timeZone !== undefined ? { timeZone: spec.timeZone } : {}) };
    for (const m of cronScheduleErrors(spec.schedule, o)) errs.push(fieldInvalid("spec.schedule", spec.schedule, m));
  }
  for (const m of timeZoneErrors(spec.timeZone)) errs.push(fieldInvalid("spec.timeZone", spec.timeZone, m));
  if (!spec.concurrencyPolicy) errs.push(fieldRequired("spec.concurrencyPolicy"));
  else if (!["Allow", "Forbid", "Replace"].includes(spec.concurrencyPolicy)) {
    errs.push(fieldNotSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"]));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, "spec.startingDeadlineSeconds"));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit"));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, "spec.failedJobsHistoryLimit"));
  if (!spec.jobTemplate) errs.push(fieldRequired("spec.jobTemplate"));
  else {
    const js = spec.jobTemplate.spec;
    errs.push(...validateJobSpec(js, "spec.jobTemplate.spec"));
    // A CronJob's Jobs always get a generated selector (upstream ValidateJobTemplateSpec).
    if (js?.selector !== undefined) {
      errs.push(fieldInvalid("spec.jobTemplate.spec.selector", js.selector, "`selector` will be auto-generated"));
    }
    if (js?.manualSelector === true) {
      errs.push(fieldNotSupported("spec.jobTemplate.spec.manualSelector", true, ["nil", "false"]));
    }
  }
  return errs;
}

export function cronJobStrategy(r: ResourceInfo): Strategy<CronJob> {
  return makeStrategy<CronJob>(
    r,
    {
      applyDefaults: defaultCronJob,
      validate: validateCronJob,
      validateUpdate: (cj, old) => validateCronJob(cj, old),
      columns: [
        nameCol(),
        col("Schedule", "string", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        col(
          "Timezone",
          "string",
          "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.",
        ),
        col(
          "Suspend",
          "boolean",
          "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.",
        ),
        col("Active", "integer", "A list of pointers to currently running jobs."),
        col("Last Schedule", "string", "Information when was the last time the job was successfully scheduled."),
        ageCol(),
        containersCol(),
        imagesCol(),
        col("Selector", "string", "A label query over pods that should match the pod count.", 1),
      ],
      row: (cj, now) => {
        const spec = cj.spec;
        const [names, images] = containerCells(spec?.jobTemplate?.spec?.template?.spec?.containers);
        const last = cj.status?.lastScheduleTime ? formatAge(cj.status.lastScheduleTime, now) : "<none>";
        const suspend = spec?.suspend === undefined ? "<unset>" : spec.suspend ? "True" : "False";
        return [
          cj.metadata.name ?? "",
          spec?.schedule ?? "",
          spec?.timeZone ?? "<none>",
          suspend,
          (cj.status?.active ?? []).length,
          last,
          age(cj, now),
          names,
          images,
          selectorString(spec?.jobTemplate?.spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}
