// batch/v1 kinds (k8s.io/api/batch/v1/types.go): Job, CronJob.

import type { KubeObject, ObjectMeta } from "../meta.js";
import { Bool, Conditions, Int, List, Obj, Opt, SetList, type Static, Str, Time } from "../schema/helpers.js";
import { ObjectReferenceSchema, PodTemplateSpecSchema } from "./core.js";
import { type KindBody, KindSchema, LabelSelectorSchema, ObjectMetaSchema } from "./meta.js";

/** k8s.io/api/batch/v1 PodFailurePolicyOnExitCodesRequirement. */
export const PodFailurePolicyOnExitCodesRequirementSchema = Obj({
  containerName: Opt(Str()),
  operator: Str("In or NotIn"),
  values: SetList(Int()),
});

/** k8s.io/api/batch/v1 PodFailurePolicyOnPodConditionsPattern; status defaults to "True". */
export const PodFailurePolicyOnPodConditionsPatternSchema = Obj({ type: Str(), status: Opt(Str()) });

/** k8s.io/api/batch/v1 PodFailurePolicyRule: onExitCodes or onPodConditions, not both. */
export const PodFailurePolicyRuleSchema = Obj({
  action: Str("FailJob, FailIndex, Ignore or Count"),
  onExitCodes: Opt(PodFailurePolicyOnExitCodesRequirementSchema),
  onPodConditions: Opt(List(PodFailurePolicyOnPodConditionsPatternSchema)),
});
export type PodFailurePolicyRule = Static<typeof PodFailurePolicyRuleSchema>;

/** spec.podFailurePolicy (k8s.io/api/batch/v1 PodFailurePolicy). */
export const PodFailurePolicySchema = Obj({ rules: List(PodFailurePolicyRuleSchema) });
export type PodFailurePolicy = Static<typeof PodFailurePolicySchema>;

/** k8s.io/api/batch/v1 SuccessPolicyRule: succeededIndexes ("1,3-5"), succeededCount, or both. */
export const SuccessPolicyRuleSchema = Obj({ succeededIndexes: Opt(Str()), succeededCount: Opt(Int()) });

/** spec.successPolicy of an Indexed Job (k8s.io/api/batch/v1 SuccessPolicy). */
export const SuccessPolicySchema = Obj({ rules: List(SuccessPolicyRuleSchema) });
export type SuccessPolicy = Static<typeof SuccessPolicySchema>;

export const JobSpecSchema = Obj({
  parallelism: Opt(Int()),
  completions: Opt(Int()),
  activeDeadlineSeconds: Opt(Int()),
  backoffLimit: Opt(Int()),
  backoffLimitPerIndex: Opt(Int()),
  maxFailedIndexes: Opt(Int()),
  selector: Opt(LabelSelectorSchema),
  manualSelector: Opt(Bool()),
  template: PodTemplateSpecSchema,
  ttlSecondsAfterFinished: Opt(Int()),
  completionMode: Opt(Str("NonIndexed or Indexed")),
  suspend: Opt(Bool()),
  podReplacementPolicy: Opt(Str("TerminatingOrFailed or Failed")),
  podFailurePolicy: Opt(PodFailurePolicySchema),
  successPolicy: Opt(SuccessPolicySchema),
  managedBy: Opt(Str()),
});
export type JobSpec = Static<typeof JobSpecSchema>;

export const JobConditionSchema = Obj({
  type: Str("Complete, Failed, Suspended, FailureTarget, SuccessCriteriaMet"),
  status: Str(),
  lastProbeTime: Opt(Time()),
  lastTransitionTime: Opt(Time()),
  reason: Opt(Str()),
  message: Opt(Str()),
});
export type JobCondition = Static<typeof JobConditionSchema>;

export const JobStatusSchema = Obj({
  conditions: Opt(Conditions(JobConditionSchema)),
  startTime: Opt(Time()),
  completionTime: Opt(Time()),
  active: Opt(Int()),
  succeeded: Opt(Int()),
  failed: Opt(Int()),
  terminating: Opt(Int()),
  completedIndexes: Opt(Str()),
  failedIndexes: Opt(Str()),
  uncountedTerminatedPods: Opt(Obj({ succeeded: Opt(List(Str())), failed: Opt(List(Str())) })),
  ready: Opt(Int()),
});
export type JobStatus = Static<typeof JobStatusSchema>;

export const JobSchema = KindSchema("Job", { spec: Opt(JobSpecSchema), status: Opt(JobStatusSchema) });
export interface Job extends KubeObject, KindBody<typeof JobSchema> {}

export const JobTemplateSpecSchema = Obj({ metadata: Opt(ObjectMetaSchema), spec: Opt(JobSpecSchema) });
export interface JobTemplateSpec extends Omit<Static<typeof JobTemplateSpecSchema>, "metadata"> {
  metadata?: ObjectMeta;
}

export const CronJobSpecSchema = Obj({
  schedule: Str(),
  timeZone: Opt(Str()),
  startingDeadlineSeconds: Opt(Int()),
  concurrencyPolicy: Opt(Str("Allow, Forbid or Replace")),
  suspend: Opt(Bool()),
  jobTemplate: JobTemplateSpecSchema,
  successfulJobsHistoryLimit: Opt(Int()),
  failedJobsHistoryLimit: Opt(Int()),
});
export type CronJobSpec = Static<typeof CronJobSpecSchema>;

export const CronJobStatusSchema = Obj({
  active: Opt(List(ObjectReferenceSchema)),
  lastScheduleTime: Opt(Time()),
  lastSuccessfulTime: Opt(Time()),
});
export type CronJobStatus = Static<typeof CronJobStatusSchema>;

export const CronJobSchema = KindSchema("CronJob", { spec: Opt(CronJobSpecSchema), status: Opt(CronJobStatusSchema) });
export interface CronJob extends KubeObject, KindBody<typeof CronJobSchema> {}

/** Finalizer the Job controller keeps on its pods until their outcome is counted. */
export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";
/** Annotation (and label) carrying an Indexed Job pod's completion index. */
export const JOB_COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** Annotation a CronJob puts on the Jobs it creates: their scheduled time (RFC 3339, in the CronJob's zone). */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";
export const JOB_NAME_LABEL = "batch.kubernetes.io/job-name";
export const LEGACY_JOB_NAME_LABEL = "job-name";
export const CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid";
export const LEGACY_CONTROLLER_UID_LABEL = "controller-uid";
