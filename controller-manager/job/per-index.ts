// spec.backoffLimitPerIndex (upstream pkg/controller/job's per-index parts of
// indexed_job_utils.go and backoff_utils.go): an Indexed Job's indexes fail on their own. Each pod
// carries how often its index failed before it (batch.kubernetes.io/job-index-failure-count, and
// -ignored-failure-count for failures a podFailurePolicy Ignore rule matched); an index whose
// counted failures pass the limit, or whose pod matched a FailIndex rule, is failed for good
// (status.failedIndexes) and not run again. A failed pod keeps its tracking finalizer until its
// replacement, which inherits the counts, exists; the replacement waits the index's own backoff.

import type { Job } from "#pkg/api/types/batch.js";
import type { Pod } from "#pkg/api/types/core.js";
import { finishedTime } from "./backoff.js";
import { completionIndex, hasTrackingFinalizer, parseIndexes, UNKNOWN_COMPLETION_INDEX } from "./indexes.js";
import { matchPodFailurePolicy, podFailurePolicyOf } from "./pod-failure-policy.js";

export const INDEX_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-failure-count";
export const INDEX_IGNORED_FAILURE_COUNT_ANNOTATION = "batch.kubernetes.io/job-index-ignored-failure-count";

export const hasBackoffLimitPerIndex = (job: Job): boolean =>
  job.spec?.completionMode === "Indexed" && job.spec.backoffLimitPerIndex !== undefined;

function count(p: Pod, annotation: string): number {
  const v = p.metadata.annotations?.[annotation];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
}

export const indexFailureCount = (p: Pod): number => count(p, INDEX_FAILURE_COUNT_ANNOTATION);
/** Counted and ignored failures of the index before this pod. */
export const indexAbsoluteFailureCount = (p: Pod): number =>
  count(p, INDEX_FAILURE_COUNT_ANNOTATION) + count(p, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);

/** upstream isIndexFailed: the pod's failure fails its index (FailIndex, or past backoffLimitPerIndex). */
export function isIndexFailed(job: Job, pod: Pod, isPodFailed: (p: Pod) => boolean): boolean {
  if (!isPodFailed(pod)) return false;
  const policy = podFailurePolicyOf(job);
  let counted = true;
  if (policy) {
    const m = matchPodFailurePolicy(policy, pod);
    if (m.action === "FailIndex") return true;
    counted = m.countFailed;
  }
  return counted && indexFailureCount(pod) >= (job.spec?.backoffLimitPerIndex ?? 0);
}

/** upstream calculateFailedIndexes: status.failedIndexes plus the indexes newly failed by pods still tracked. */
export function failedIndexes(job: Job, pods: readonly Pod[], isPodFailed: (p: Pod) => boolean): number[] {
  const completions = job.spec?.completions ?? 0;
  const out = new Set(parseIndexes(job.status?.failedIndexes, completions));
  for (const p of pods) {
    const ix = completionIndex(p);
    if (!hasTrackingFinalizer(p) || ix === UNKNOWN_COMPLETION_INDEX || ix >= completions) continue;
    if (isIndexFailed(job, p, isPodFailed)) out.add(ix);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * upstream getPodsWithDelayedDeletionPerIndex: per index still to run with no active pod, its
 * latest failed pod (most failures, then latest finish), whose finalizer stays until it is replaced.
 */
export function podsWithDelayedDeletion(
  job: Job,
  pods: readonly Pod[],
  activePods: readonly Pod[],
  succeeded: readonly number[],
  failed: readonly number[],
  expectedRm: ReadonlySet<string>,
  isPodFailed: (p: Pod) => boolean,
): Map<number, Pod> {
  const completions = job.spec?.completions ?? 0;
  const skip = new Set([...succeeded, ...failed, ...activePods.map(completionIndex)]);
  const out = new Map<number, Pod>();
  for (const p of pods) {
    if (!hasTrackingFinalizer(p) || expectedRm.has(p.metadata.uid ?? "") || !isPodFailed(p)) continue;
    const ix = completionIndex(p);
    if (ix === UNKNOWN_COMPLETION_INDEX || ix >= completions || skip.has(ix)) continue;
    const last = out.get(ix);
    if (
      !last ||
      (indexAbsoluteFailureCount(last) <= indexAbsoluteFailureCount(p) && finishedTime(p) >= finishedTime(last))
    ) {
      out.set(ix, p);
    }
  }
  return out;
}

/** upstream getNewIndexFailureCounts: the counts a replacement of `replaced` carries. */
export function newIndexFailureCounts(job: Job, replaced: Pod | undefined): { failed: number; ignored: number } {
  if (!replaced) return { failed: 0, ignored: 0 };
  let failed = indexFailureCount(replaced);
  let ignored = count(replaced, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION);
  if (matchPodFailurePolicy(podFailurePolicyOf(job), replaced).countFailed) failed++;
  else ignored++;
  return { failed, ignored };
}
