// batch/v1 Job (upstream pkg/registry/batch/job/strategy.go, pkg/apis/batch/v1/defaults.go, pkg/apis/batch/validation, printers.go).

import { humanDuration } from "#pkg/api/duration.js";
import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import {
  CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  type Job,
  type JobSpec,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
  type PodFailurePolicy,
} from "#pkg/api/types/batch.js";
import { fieldDuplicate, fieldImmutable, isDNS1123Label } from "#pkg/api/validation.js";
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

export {
  CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  LEGACY_CONTROLLER_UID_LABEL,
  LEGACY_JOB_NAME_LABEL,
} from "#pkg/api/types/batch.js";

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
  // With a podFailurePolicy only failed pods are replaced (upstream SetDefaults_Job).
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? "Failed" : "TerminatingOrFailed";
  const policy = spec.podFailurePolicy as PodFailurePolicy | undefined;
  for (const rule of Array.isArray(policy?.rules) ? policy.rules : []) {
    for (const c of Array.isArray(rule?.onPodConditions) ? rule.onPodConditions : []) c.status ??= "True";
  }
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

/** upstream ValidateHasLabel. */
function hasLabel(labels: Record<string, string> | undefined, path: string, key: string, want: string): FieldError[] {
  const got = labels?.[key];
  if (got === undefined) return [fieldRequired(`${path}.labels[${key}]`, `must be '${want}'`)];
  if (got !== want) return [fieldInvalid(`${path}.labels[${key}]`, labels, `must be '${want}'`)];
  return [];
}

/**
 * upstream ValidateGeneratedSelector: a Job whose selector the server generated must carry the
 * generated labels on its template, and its selector must pick exactly them.
 */
export function validateGeneratedSelector(job: Job): FieldError[] {
  const spec = job.spec;
  if (!spec || spec.manualSelector === true || !spec.selector) return [];
  const errs: FieldError[] = [];
  const uid = job.metadata.uid ?? "";
  const name = job.metadata.name ?? "";
  if (!uid) errs.push(fieldRequired("metadata.uid"));
  const labels = spec.template?.metadata?.labels;
  errs.push(...hasLabel(labels, "spec.template.metadata", CONTROLLER_UID_LABEL, uid));
  errs.push(...hasLabel(labels, "spec.template.metadata", JOB_NAME_LABEL, name));
  errs.push(...hasLabel(labels, "spec.template.metadata", LEGACY_CONTROLLER_UID_LABEL, uid));
  errs.push(...hasLabel(labels, "spec.template.metadata", LEGACY_JOB_NAME_LABEL, name));
  try {
    const expected = { [CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name };
    if (!selectorFromLabelSelector(spec.selector).matches(expected)) {
      errs.push(fieldInvalid("spec.selector", spec.selector, "`selector` not auto-generated"));
    }
  } catch {
    // an invalid selector is reported by validateJobSpec
  }
  return errs;
}

const POD_FAILURE_ACTIONS = ["Count", "FailIndex", "FailJob", "Ignore"];
const MAX_POD_FAILURE_POLICY_RULES = 20;
const MAX_EXIT_CODE_VALUES = 255;
const MAX_POD_CONDITIONS = 20;

/** upstream validatePodFailurePolicy (rules, actions, exit codes, pod conditions). */
function validatePodFailurePolicy(spec: JobSpec, path: string): FieldError[] {
  const policy = spec.podFailurePolicy as PodFailurePolicy | undefined;
  if (policy === undefined || policy === null) return [];
  const errs: FieldError[] = [];
  const rules = Array.isArray(policy.rules) ? policy.rules : [];
  if (rules.length > MAX_POD_FAILURE_POLICY_RULES) {
    errs.push(fieldInvalid(`${path}.rules`, rules.length, `must have at most ${MAX_POD_FAILURE_POLICY_RULES} items`));
  }
  const containers = new Set(
    [...(spec.template?.spec?.containers ?? []), ...(spec.template?.spec?.initContainers ?? [])].map((c) => c.name),
  );
  rules.forEach((rule, i) => {
    const rp = `${path}.rules[${i}]`;
    if (!rule.action) errs.push(fieldRequired(`${rp}.action`));
    else if (!POD_FAILURE_ACTIONS.includes(rule.action)) {
      errs.push(fieldNotSupported(`${rp}.action`, rule.action, POD_FAILURE_ACTIONS));
    } else if (rule.action === "FailIndex" && spec.backoffLimitPerIndex === undefined) {
      errs.push(fieldForbidden(`${rp}.action`, "requires the backoffLimitPerIndex to be set"));
    }
    const codes = rule.onExitCodes;
    const conds = rule.onPodConditions;
    if (codes && conds) {
      errs.push(fieldInvalid(rp, "", "specifying both OnExitCodes and OnPodConditions is not supported"));
    } else if (!codes && !conds) {
      errs.push(fieldInvalid(rp, "", "specifying one of OnExitCodes and OnPodConditions is required"));
    }
    if (codes) {
      const cp = `${rp}.onExitCodes`;
      if (codes.containerName !== undefined && !containers.has(codes.containerName)) {
        errs.push(
          fieldInvalid(
            `${cp}.containerName`,
            codes.containerName,
            "must be one of the container or initContainer names in the pod template",
          ),
        );
      }
      if (!["In", "NotIn"].includes(codes.operator)) {
        errs.push(fieldNotSupported(`${cp}.operator`, codes.operator, ["In", "NotIn"]));
      }
      const values = Array.isArray(codes.values) ? codes.values : [];
      if (values.length === 0) errs.push(fieldInvalid(`${cp}.values`, values, "at least one value is required"));
      if (values.length > MAX_EXIT_CODE_VALUES) {
        errs.push(fieldInvalid(`${cp}.values`, values.length, `must have at most ${MAX_EXIT_CODE_VALUES} items`));
      }
      const seen = new Set<number>();
      values.forEach((v, j) => {
        const vp = `${cp}.values[${j}]`;
        if (seen.has(v)) errs.push(fieldDuplicate(vp, v));
        if (v === 0 && codes.operator === "In") errs.push(fieldInvalid(vp, v, "must not be 0 for the In operator"));
        if (j > 0 && v < (values[j - 1] ?? 0)) errs.push(fieldInvalid(vp, v, "must be ordered"));
        seen.add(v);
      });
    }
    if (conds) {
      if (conds.length > MAX_POD_CONDITIONS) {
        errs.push(fieldInvalid(`${rp}.onPodConditions`, conds.length, `must have at most ${MAX_POD_CONDITIONS} items`));
      }
      conds.forEach((c, j) => {
        const p = `${rp}.onPodConditions[${j}]`;
        const status = c.status ?? "True";
        if (!["True", "False", "Unknown"].includes(status)) {
          errs.push(fieldNotSupported(`${p}.status`, status, ["True", "False", "Unknown"]));
        }
        if (!c.type) errs.push(fieldRequired(`${p}.type`));
      });
    }
  });
  return errs;
}

export function validateJobSpec(spec: JobSpec | undefined, path: string): FieldError[] {
  if (!spec) return [fieldRequired(path)];
  // A CronJob's job template has no selector of its own (it is generated per Job): only a Job's is checked.
  const errs = validateSelectorAndTemplate(path === "spec" ? spec.selector : undefined, spec.template, {
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
  errs.push(...nonNegative(spec.backoffLimitPerIndex, `${path}.backoffLimitPerIndex`));
  errs.push(...nonNegative(spec.maxFailedIndexes, `${path}.maxFailedIndexes`));
  if (spec.backoffLimitPerIndex !== undefined && spec.completionMode !== "Indexed") {
    errs.push(
      fieldInvalid(`${path}.backoffLimitPerIndex`, spec.backoffLimitPerIndex, "requires indexed completion mode"),
    );
  }
  if (spec.maxFailedIndexes !== undefined && spec.backoffLimitPerIndex === undefined) {
    errs.push(fieldRequired(`${path}.backoffLimitPerIndex`, "when maxFailedIndexes is specified"));
  }
  if (spec.successPolicy !== undefined && spec.successPolicy !== null && spec.completionMode !== "Indexed") {
    errs.push(fieldInvalid(`${path}.completionMode`, spec.completionMode ?? null, "requires indexed completion mode"));
  }
  if (spec.podFailurePolicy !== undefined && spec.podFailurePolicy !== null) {
    errs.push(...validatePodFailurePolicy(spec, `${path}.podFailurePolicy`));
    const rp = spec.template?.spec?.restartPolicy;
    if (rp !== undefined && rp !== "Never") {
      errs.push(
        fieldInvalid(
          `${path}.template.spec.restartPolicy`,
          rp,
          'only "Never" is supported when podFailurePolicy is specified',
        ),
      );
    }
  }
  return errs;
}

/**
 * upstream ValidateJob past the spec: the generated selector, and an Indexed Job's largest pod
 * hostname (<name>-<completions-1>) a DNS label.
 */
function validateJob(job: Job): FieldError[] {
  const errs = [...validateGeneratedSelector(job), ...validateJobSpec(job.spec, "spec")];
  const spec = job.spec;
  if (spec?.completionMode === "Indexed" && (spec.completions ?? 0) > 0) {
    const host = `${job.metadata.name ?? ""}-${(spec.completions ?? 1) - 1}`;
    if (!isDNS1123Label(host)) {
      errs.push(
        fieldInvalid(
          "metadata.name",
          job.metadata.name ?? "",
          `will not able to create pod with invalid DNS label: ${host}`,
        ),
      );
    }
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
      validate: validateJob,
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
