// describe job / cronjob, after kubectl's JobDescriber and CronJobDescriber (1.31).

import { humanDuration } from "#pkg/api/duration.js";
import type { CronJob, Job, JobSpec } from "#pkg/api/types/batch.js";
import type { PodTemplateSpec } from "#pkg/api/types/core.js";
import { rfc1123z } from "../format.js";
import { describePodTemplate } from "./pod.js";
import { formatSelector } from "./workloads.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

/** kubectl's capIndexesListOrNone: the list cut after the first comma past softLimit characters. */
export function capIndexes(indexes: string | undefined, softLimit = 50): string {
  if (!indexes) return "<none>";
  let ix = softLimit;
  while (ix < indexes.length && indexes[ix] !== ",") ix++;
  return ix >= indexes.length ? indexes : `${indexes.slice(0, ix + 1)}...`;
}

export function describeJob(w: PrefixWriter, job: Job): void {
  const m = job.metadata;
  const spec = job.spec;
  const st = job.status;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  w.write(0, `Selector:\t${formatSelector(spec?.selector)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  const controller = m.ownerReferences?.find((r) => r.controller);
  if (controller) w.write(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  if (spec?.parallelism !== undefined) w.write(0, `Parallelism:\t${spec.parallelism}\n`);
  w.write(0, `Completions:\t${spec?.completions ?? "<unset>"}\n`);
  if (spec?.completionMode !== undefined) w.write(0, `Completion Mode:\t${spec.completionMode}\n`);
  if (spec?.suspend !== undefined) w.write(0, `Suspend:\t${spec.suspend}\n`);
  if (spec?.backoffLimit !== undefined) w.write(0, `Backoff Limit:\t${spec.backoffLimit}\n`);
  if (spec?.ttlSecondsAfterFinished !== undefined) {
    w.write(0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}\n`);
  }
  if (st?.startTime) w.write(0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
  if (st?.completionTime) w.write(0, `Completed At:\t${rfc1123z(st.completionTime)}\n`);
  if (st?.startTime && st.completionTime) {
    w.write(0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
  }
  if (spec?.activeDeadlineSeconds !== undefined)
    w.write(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  const ready = st?.ready === undefined ? "" : ` (${st.ready} Ready)`;
  w.write(
    0,
    `Pods Statuses:\t${st?.active ?? 0} Active${ready} / ${st?.succeeded ?? 0} Succeeded / ${st?.failed ?? 0} Failed\n`,
  );
  if (spec?.completionMode === "Indexed") w.write(0, `Completed Indexes:\t${capIndexes(st?.completedIndexes)}\n`);
  describePodTemplate(w, spec?.template as PodTemplateSpec | undefined);
}

function describeJobTemplate(w: PrefixWriter, spec: JobSpec | undefined): void {
  w.write(0, `Selector:\t${spec?.selector ? formatSelector(spec.selector) : "<unset>"}\n`);
  w.write(0, `Parallelism:\t${spec?.parallelism ?? "<unset>"}\n`);
  w.write(0, `Completions:\t${spec?.completions ?? "<unset>"}\n`);
  if (spec?.activeDeadlineSeconds !== undefined)
    w.write(0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  describePodTemplate(w, spec?.template as PodTemplateSpec | undefined);
}

export function describeCronJob(w: PrefixWriter, cj: CronJob): void {
  const m = cj.metadata;
  const spec = cj.spec;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `Schedule:\t${spec?.schedule ?? ""}\n`);
  w.write(0, `Concurrency Policy:\t${spec?.concurrencyPolicy ?? ""}\n`);
  w.write(0, `Suspend:\t${spec?.suspend === undefined ? "<unset>" : spec.suspend ? "True" : "False"}\n`);
  w.write(0, `Successful Job History Limit:\t${spec?.successfulJobsHistoryLimit ?? "<unset>"}\n`);
  w.write(0, `Failed Job History Limit:\t${spec?.failedJobsHistoryLimit ?? "<unset>"}\n`);
  w.write(
    0,
    `Starting Deadline Seconds:\t${spec?.startingDeadlineSeconds !== undefined ? `${spec.startingDeadlineSeconds}s` : "<unset>"}\n`,
  );
  describeJobTemplate(w, spec?.jobTemplate?.spec);
  const last = cj.status?.lastScheduleTime;
  w.write(0, `Last Schedule Time:\t${last ? rfc1123z(last) : "<unset>"}\n`);
  const active = cj.status?.active ?? [];
  w.write(0, `Active Jobs:\t${active.length === 0 ? "<none>" : active.map((j) => j.name ?? "").join(", ")}\n`);
}
