// Indexed Jobs (upstream pkg/controller/job/indexed_job_utils.go): each pod carries its completion
// index in the batch.kubernetes.io/job-completion-index annotation (and label), sees it as
// JOB_COMPLETION_INDEX through the downward API, and runs with hostname <job>-<index>; the Job's
// status.completedIndexes lists the succeeded indexes as intervals ("0-2,4,6,7").

import type { Job } from "#pkg/api/types/batch.js";
import { JOB_COMPLETION_INDEX_ANNOTATION, JOB_TRACKING_FINALIZER } from "#pkg/api/types/batch.js";
import type { Container, Pod, PodTemplateSpec } from "#pkg/api/types/core.js";
import { compareForDeletion } from "#pkg/controller/pod-util.js";

export const UNKNOWN_COMPLETION_INDEX = -1;
export const COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX";
/** upstream names.MaxGeneratedNameLength: 63 less the 5 random characters. */
const MAX_GENERATED_NAME_LENGTH = 58;

export const isIndexedJob = (job: Job): boolean => job.spec?.completionMode === "Indexed";

export const hasTrackingFinalizer = (p: Pod): boolean => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/** The pod's completion index from its annotation; UNKNOWN_COMPLETION_INDEX when absent or invalid. */
export function completionIndex(p: Pod): number {
  const v = p.metadata.annotations?.[JOB_COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return UNKNOWN_COMPLETION_INDEX;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : UNKNOWN_COMPLETION_INDEX;
}

/** Indexes below `completions` listed in an intervals string; invalid parts are skipped (upstream logs them). */
export function parseIndexes(s: string | undefined, completions: number): number[] {
  const out = new Set<number>();
  for (const part of (s ?? "").split(",")) {
    if (part === "") continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) continue;
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    for (let i = first; i <= last && i < completions; i++) out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

/** upstream orderedIntervals.String: runs of three or more as a-b, pairs as a,b. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const first = sorted[i] as number;
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    const last = sorted[j] as number;
    if (last === first) parts.push(String(first));
    else if (last === first + 1) parts.push(`${first},${last}`);
    else parts.push(`${first}-${last}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * upstream calculateSucceededIndexes: the indexes already in status.completedIndexes, and those
 * plus every index a succeeded pod still holding the tracking finalizer (not counted yet) has.
 */
export function succeededIndexes(job: Job, pods: readonly Pod[]): { prev: number[]; all: number[] } {
  const completions = job.spec?.completions ?? 0;
  const prev = parseIndexes(job.status?.completedIndexes, completions);
  const all = new Set(prev);
  for (const p of pods) {
    const ix = completionIndex(p);
    if (
      p.status?.phase === "Succeeded" &&
      ix !== UNKNOWN_COMPLETION_INDEX &&
      ix < completions &&
      hasTrackingFinalizer(p)
    ) {
      all.add(ix);
    }
  }
  return { prev, all: [...all].sort((a, b) => a - b) };
}

/** upstream firstPendingIndexes: the lowest `count` indexes neither succeeded nor held by an active pod. */
export function firstPendingIndexes(
  activePods: readonly Pod[],
  succeeded: readonly number[],
  count: number,
  completions: number,
): number[] {
  const taken = new Set(succeeded);
  for (const p of activePods) {
    const ix = completionIndex(p);
    if (ix !== UNKNOWN_COMPLETION_INDEX) taken.add(ix);
  }
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < count; i++) if (!taken.has(i)) out.push(i);
  return out;
}

/**
 * upstream appendDuplicatedIndexPodsForRemoval: active pods without a valid index, and all but
 * the most advanced pod of each index, are to be removed; returns them and the rest.
 */
export function duplicatedIndexPods(pods: readonly Pod[], completions: number): { rm: Pod[]; left: Pod[] } {
  const rm: Pod[] = [];
  const byIndex = new Map<number, Pod[]>();
  for (const p of pods) {
    const ix = completionIndex(p);
    if (ix === UNKNOWN_COMPLETION_INDEX || ix >= completions) {
      rm.push(p);
      continue;
    }
    byIndex.set(ix, [...(byIndex.get(ix) ?? []), p]);
  }
  const left: Pod[] = [];
  for (const group of byIndex.values()) {
    // Deletion order puts the least advanced first: keep the last one.
    const sorted = [...group].sort((a, b) => compareForDeletion(a, b));
    left.push(sorted[sorted.length - 1] as Pod);
    rm.push(...sorted.slice(0, -1));
  }
  return { rm, left };
}

/** upstream addCompletionIndexEnvVariables: JOB_COMPLETION_INDEX from the annotation, in every container. */
export function addCompletionIndexEnv(template: PodTemplateSpec): void {
  const spec = template.spec;
  if (!spec) return;
  const add = (c: Container) => {
    if ((c.env ?? []).some((e) => e.name === COMPLETION_INDEX_ENV)) return;
    c.env = [
      ...(c.env ?? []),
      {
        name: COMPLETION_INDEX_ENV,
        valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${JOB_COMPLETION_INDEX_ANNOTATION}']` } },
      },
    ];
  };
  for (const c of spec.initContainers ?? []) add(c);
  for (const c of spec.containers ?? []) add(c);
}

/** upstream podGenerateNameWithIndex: <job>-<index>- (the job name cut so the whole fits). */
export function generateNameWithIndex(jobName: string, index: number): string {
  const appendix = `-${index}-`;
  const prefix = `${jobName}${appendix}`;
  if (prefix.length <= MAX_GENERATED_NAME_LENGTH) return prefix;
  return `${jobName.slice(0, MAX_GENERATED_NAME_LENGTH - appendix.length)}${appendix}`;
}
