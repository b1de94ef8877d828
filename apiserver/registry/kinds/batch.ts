// batch/v1: Job and CronJob (upstream pkg/registry/batch/*/strategy.go, pkg/apis/batch/v1/defaults.go,
// pkg/apis/batch/validation, printers.go).

import { formatAge, humanDuration } from "#pkg/api/duration.js";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { CronJob, Job, JobSpec } from "#pkg/api/types/batch.js";
import { fieldImmutable } from "#pkg/api/validation.js";
import type { Strategy } from "../strategy.js";
import { defaultTemplate, validateSelectorAndTemplate } from "./apps.js";
import {
  age,
  ageCol,
  clone,
  col,
  containerCells,
  containersCol,
  deepEqual,
  imagesCol,
  makeStrategy,
  nameCol,
  selectorString,
} from "./common.js";

export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";

export function defaultJobSpec(spec: JobSpec | undefined): void {
  if (!spec || typeof spec !== "object") return;
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ??= "NonIndexed";
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= "TerminatingOrFailed";
  defaultTemplate(spec.template);
}

/** Upstream generateSelector: pods of this job carry its name and uid; the selector picks the uid. */
export function generateJobSelector(job: Job): void {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true || !spec.template) return;
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  spec.template.metadata ??= {};
  spec.template.metadata.labels ??= {};
  const labels = spec.template.metadata.labels;
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) labels[k] ??= name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL]) labels[k] ??= uid;
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  spec.selector.matchLabels[CONTROLLER_UID_LABEL] ??= uid;
}

function nonNegative(v: unknown, path: string): FieldError[] {
  if (v === undefined) return [];
  return typeof v === "number" && Number.isInteger(v) && v >= 0
    ? []
    : [fieldInvalid(path, v, "must be greater than or equal to 0")];
}

export function validateJobSpec(spec: JobSpec | undefined, path: string): FieldError[] {
  if (!spec) return [fieldRequired(path)];
  const errs = validateSelectorAndTemplate(spec.selector, spec.template, {
    kindName: "job",
    restartPolicies: ["OnFailure", "Never"],
    selectorRequired: path === "spec",
    specPath: path,
  });
  if (spec.template?.spec && spec.template.spec.restartPolicy === undefined) {
    errs.push(fieldRequired(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  }
  errs.push(...nonNegative(spec.parallelism, `${path}.parallelism`));
  errs.push(...nonNegative(spec.completions, `${path}.completions`));
  errs.push(...nonNegative(spec.backoffLimit, `${path}.backoffLimit`));
  errs.push(...nonNegative(spec.ttlSecondsAfterFinished, `${path}.ttlSecondsAfterFinished`));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds > 0)) {
    errs.push(fieldInvalid(`${path}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, "must be greater than 0"));
  }
  if (spec.completionMode !== undefined && !["NonIndexed", "Indexed"].includes(spec.completionMode)) {
    errs.push(fieldNotSupported(`${path}.completionMode`, spec.completionMode, ["NonIndexed", "Indexed"]));
  }
  if (spec.completionMode === "Indexed" && spec.completions === undefined) {
    errs.push(fieldRequired(`${path}.completions`, "when completion mode is Indexed"));
  }
  return errs;
}

function validateJobUpdate(job: Job, old: Job): FieldError[] {
  const errs = validateJobSpec(job.spec, "spec");
  const n = job.spec;
  const o = old.spec;
  if (!n || !o) return errs;
  if (!deepEqual(n.selector, o.selector)) errs.push(fieldImmutable("spec.selector", n.selector ?? null));
  if (n.completionMode !== o.completionMode) errs.push(fieldImmutable("spec.completionMode", n.completionMode ?? ""));
  // Completions may change only together with parallelism for Indexed jobs; keep it simple: immutable.
  if (n.completions !== o.completions && !(n.completionMode === "Indexed" && n.completions === n.parallelism)) {
    errs.push(fieldImmutable("spec.completions", n.completions ?? null));
  }
  // A suspended job that never started may change its scheduling directives; otherwise the template is fixed.
  if (!deepEqual(n.template, o.template)) {
    const mayChange = o.suspend === true && !old.status?.startTime;
    if (!mayChange) errs.push(fieldImmutable("spec.template", n.template ?? null));
  }
  return errs;
}

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === "True");
}

export function jobStatusCell(job: Job): string {
  if (hasCondition(job, "Complete")) return "Complete";
  if (hasCondition(job, "Failed")) return "Failed";
  if (job.metadata.deletionTimestamp) return "Terminating";
  if (hasCondition(job, "Suspended")) return "Suspended";
  if (hasCondition(job, "FailureTarget")) return "FailureTarget";
  if (hasCondition(job, "SuccessCriteriaMet")) return "SuccessCriteriaMet";
  return "Running";
}

function jobStrategy(r: ResourceInfo): Strategy<Job> {
  return makeStrategy<Job>(
    r,
    {
      applyDefaults(job) {
        defaultJobSpec(job.spec);
        // Upstream: a job without labels takes its template's.
        const tl = job.spec?.template?.metadata?.labels;
        if (tl && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = clone(tl);
      },
      prepareForCreate: generateJobSelector,
      validate: (job) => validateJobSpec(job.spec, "spec"),
      validateUpdate: validateJobUpdate,
      selectableFields: (job) => ({ "status.successful": String(job.status?.succeeded ?? 0) }),
      columns: [
        nameCol(),
        col("Status", "string", "Status of the job."),
        col("Completions", "string", "The completion status of the job"),
        col("Duration", "string", "Time required to complete the job."),
        ageCol(),
        containersCol(),
        imagesCol(),
        col("Selector", "string", "A label query over pods that should match the pod count.", 1),
      ],
      row: (job, now) => {
        const spec = job.spec;
        const succeeded = job.status?.succeeded ?? 0;
        let completions: string;
        if (spec?.completions !== undefined) completions = `${succeeded}/${spec.completions}`;
        else if ((spec?.parallelism ?? 0) > 1) completions = `${succeeded}/1 of ${spec?.parallelism}`;
        else completions = `${succeeded}/1`;
        let duration = "";
        const start = job.status?.startTime ? Date.parse(job.status.startTime) : Number.NaN;
        if (!Number.isNaN(start)) {
          const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now.getTime();
          duration = humanDuration(end - start);
        }
        const [names, images] = containerCells(spec?.template?.spec?.containers);
        return [
          job.metadata.name ?? "",
          jobStatusCell(job),
          completions,
          duration,
          age(job, now),
          names,
          images,
          selectorString(spec?.selector),
        ];
      },
    },
    { generation: true },
  );
}

// ---------------------------------------------------------------- CronJob

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

function cronJobStrategy(r: ResourceInfo): Strategy<CronJob> {
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

export const BATCH_STRATEGIES: Record<string, (r: ResourceInfo) => Strategy> = {
  jobs: jobStrategy as (r: ResourceInfo) => Strategy,
  cronjobs: cronJobStrategy as (r: ResourceInfo) => Strategy,
};
