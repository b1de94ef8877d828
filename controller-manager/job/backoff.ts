// Pod failure backoff (upstream pkg/controller/job/backoff_utils.go): after a failure the Job
// controller waits before creating a replacement pod, 10 s doubling per failure since the last
// success, capped at 6 minutes. The record (failures since the last success, time of the last
// failure) is kept per Job in memory, as upstream's, and rebuilt from the pods a sync sees.

import type { Pod } from "#pkg/api/types/core.js";
import type { Clock } from "#pkg/runtime/clock.js";

/** upstream DefaultJobPodFailureBackOff. */
export const DEFAULT_POD_FAILURE_BACKOFF_MS = 10_000;
/** upstream MaxJobPodFailureBackOff. */
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;

export interface BackoffRecord {
  key: string;
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

const ms = (t: string | undefined): number | undefined => {
  if (!t) return undefined;
  const v = Date.parse(t);
  return Number.isNaN(v) ? undefined : v;
};

/**
 * upstream getFinishedTime: the latest container finish when all have finished, else the Ready
 * condition's turn to False, else deletionTimestamp less the grace period, else creation.
 */
export function finishedTime(p: Pod): number {
  const statuses = p.status?.containerStatuses ?? [];
  let latest: number | undefined;
  let all = statuses.length > 0;
  for (const s of statuses) {
    const t = ms(s.state?.terminated?.finishedAt);
    if (t === undefined) {
      all = false;
      break;
    }
    latest = latest === undefined ? t : Math.max(latest, t);
  }
  if (all && latest !== undefined) return latest;
  const ready = p.status?.conditions?.find((c) => c.type === "Ready");
  const readyFalse = ready?.status === "False" ? ms(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const del = ms(p.metadata.deletionTimestamp);
  if (del !== undefined) return del - (p.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return ms(p.metadata.creationTimestamp) ?? 0;
}

export class BackoffStore {
  readonly #records = new Map<string, BackoffRecord>();

  /** upstream newBackoffRecord: the record once the newly finished pods are taken into account. */
  newRecord(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const old = this.#records.get(key);
    const rec: BackoffRecord = {
      key,
      failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0,
      ...(old?.lastFailureTime !== undefined ? { lastFailureTime: old.lastFailureTime } : {}),
    };
    const failed = newFailed.map(finishedTime).sort((a, b) => a - b);
    if (newSucceeded.length === 0) {
      if (failed.length === 0) return rec;
      return {
        key,
        failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failed.length,
        lastFailureTime: failed[failed.length - 1] as number,
      };
    }
    const lastSuccess = Math.max(...newSucceeded.map(finishedTime));
    const after = failed.filter((t) => t > lastSuccess);
    return {
      key,
      failuresAfterLastSuccess: after.length,
      ...(after.length > 0 ? { lastFailureTime: after[after.length - 1] as number } : {}),
    };
  }

  update(rec: BackoffRecord): void {
    this.#records.set(rec.key, rec);
  }

  remove(key: string): void {
    this.#records.delete(key);
  }
}

/** upstream getRemainingTimeForFailuresCount: how long until a replacement may be created (0: now). */
export function remainingBackoff(
  rec: BackoffRecord,
  clock: Clock,
  baseMs = DEFAULT_POD_FAILURE_BACKOFF_MS,
  maxMs = MAX_POD_FAILURE_BACKOFF_MS,
): number {
  if (rec.failuresAfterLastSuccess === 0 || rec.lastFailureTime === undefined) return 0;
  let backoff = baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess; i++) {
    backoff *= 2;
    if (backoff >= maxMs) {
      backoff = maxMs;
      break;
    }
  }
  const elapsed = clock.now() - rec.lastFailureTime;
  return backoff < elapsed ? 0 : backoff - elapsed;
}
