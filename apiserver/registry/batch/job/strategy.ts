// batch/v1 Job (upstream pkg/registry/batch/job/strategy.go, pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation, printers.go).

import { humanDuration } from "#pkg/api/duration.js";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Job, JobSpec } from "#pkg/api/types/batch.js";
import { fieldImmutable } from "#pkg/api/validation.js";
import { defaultTemplate, validateSelectorAndTemplate } from "../../apps/template.js";
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
} from "../../common.js";
import type { Strategy } from "../../strategy.js";

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

export function nonNegative(v: unknown, path: string): FieldError[] {
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

export function jobStrategy(r: ResourceInfo): Strategy<Job> {
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
