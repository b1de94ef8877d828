// batch/v1 CronJob (upstream pkg/registry/batch/cronjob/strategy.go, pkg/apis/batch/validation, printers.go).

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

const CRON_MACROS = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];
const CRON_FIELD = /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?)*$/;

/** A standard 5-field cron schedule or a macro (optionally "TZ=.../CRON_TZ=..." prefixed, which upstream rejects). */
export function cronScheduleErrors(schedule: string): string[] {
  const s = schedule.trim();
  if (s.startsWith("TZ=") || s.startsWith("CRON_TZ=")) {
    return ["cannot use TZ or CRON_TZ in schedule, use timeZone field instead"];
  }
  if (CRON_MACROS.includes(s) || s.startsWith("@every ")) return [];
  const fields = s.split(/\s+/);
  if (fields.length !== 5)
    return [`unparseable schedule: expected exactly 5 fields, found ${fields.length}: ${JSON.stringify(s)}`];
  if (!fields.every((f) => CRON_FIELD.test(f))) return [`unparseable schedule: ${JSON.stringify(s)}`];
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

function validateCronJob(cj: CronJob): FieldError[] {
  const errs: FieldError[] = [];
  const name = cj.metadata.name ?? "";
  if (name.length > 52) errs.push(fieldInvalid("metadata.name", name, "must be no more than 52 characters"));
  const spec = cj.spec;
  if (!spec) return [...errs, fieldRequired("spec")];
  if (!spec.schedule) errs.push(fieldRequired("spec.schedule"));
  else for (const m of cronScheduleErrors(spec.schedule)) errs.push(fieldInvalid("spec.schedule", spec.schedule, m));
  if (spec.concurrencyPolicy !== undefined && !["Allow", "Forbid", "Replace"].includes(spec.concurrencyPolicy)) {
    errs.push(fieldNotSupported("spec.concurrencyPolicy", spec.concurrencyPolicy, ["Allow", "Forbid", "Replace"]));
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, "spec.startingDeadlineSeconds"));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, "spec.successfulJobsHistoryLimit"));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, "spec.failedJobsHistoryLimit"));
  if (!spec.jobTemplate) errs.push(fieldRequired("spec.jobTemplate"));
  else errs.push(...validateJobSpec(spec.jobTemplate.spec, "spec.jobTemplate.spec"));
  return errs;
}

export function cronJobStrategy(r: ResourceInfo): Strategy<CronJob> {
  return makeStrategy<CronJob>(
    r,
    {
      applyDefaults: defaultCronJob,
      validate: validateCronJob,
      validateUpdate: validateCronJob,
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
