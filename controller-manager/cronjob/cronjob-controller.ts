// The CronJob controller (upstream pkg/controller/cronjob/cronjob_controllerv2.go and utils.go):
// creates a Job from spec.jobTemplate at each time the schedule fires, in spec.timeZone.
//
// A sync finds the most recent scheduled time not yet run (status.lastScheduleTime, or the
// creation time, bounded by startingDeadlineSeconds) and starts at most one Job for it: missed
// times after downtime are counted (a TooManyMissedTimes warning past 100) but never run one by
// one. The Job is named <cronjob>-<scheduled time in minutes since the epoch>, so a controller
// that dies between creating the Job and writing status makes the same name again and finds it
// (AlreadyExists), never a second Job. concurrencyPolicy Forbid skips a time while a Job runs,
// Replace deletes the running ones first; finished Jobs beyond the history limits are deleted,
// oldest first. After each sync the key is queued again for just past the next scheduled time.

import { type CronSchedule, isKnownTimeZone, parseCronSchedule } from "#pkg/api/cron.js";
import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { CRONJOBS, JOBS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import { CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION, type CronJob, type Job } from "#pkg/api/types/batch.js";
import type { ObjectReference } from "#pkg/api/types/core.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { controllerRef, isControlledBy, newControllerRef } from "#pkg/controller/owners.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";

/** upstream nextScheduleDelta: wake up this long after a scheduled time, so it has surely passed. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed start times than this is reported as "too many" (upstream's 100). */
export const TOO_MANY_MISSED = 100;

export type MissedSchedules = "none" | "few" | "many";

const condTrue = (job: Job, type: string) =>
  job.status?.conditions?.some((c) => c.type === type && c.status === "True") ?? false;

/** The finished condition type ("Complete" or "Failed") of a finished Job (upstream getFinishedStatus). */
export function finishedStatus(job: Job): "Complete" | "Failed" | undefined {
  if (condTrue(job, "Complete")) return "Complete";
  if (condTrue(job, "Failed")) return "Failed";
  return undefined;
}

/**
 * upstream mostRecentScheduleTime: the earliest time considered (last schedule or creation,
 * moved up to now - startingDeadlineSeconds when asked), the most recent scheduled time at or
 * before now after it (undefined: none), and how many were missed (roughly: by the period
 * between the first two times, as upstream).
 */
export function mostRecentScheduleTime(
  cj: CronJob,
  now: number,
  schedule: CronSchedule,
  includeStartingDeadline: boolean,
): { earliest: number; mostRecent?: number; missed: MissedSchedules } {
  let earliest = Date.parse(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? "");
  if (Number.isNaN(earliest)) earliest = now;
  const sds = cj.spec?.startingDeadlineSeconds;
  if (includeStartingDeadline && sds !== undefined) {
    const deadline = now - sds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  const next = (t: number) => schedule.next(new Date(t)).getTime();
  const t1 = next(earliest);
  const t2 = next(t1);
  if (now < t1) return { earliest, missed: "none" };
  if (now < t2) return { earliest, mostRecent: t1, missed: "none" };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) throw new Error("time difference between two schedules is less than 1 second");
  const elapsed = Math.trunc((now - t1) / 1000);
  const missedCount = Math.trunc(elapsed / between) + 1;
  // Start a period before the estimate, and let the schedule find the real last time (upstream).
  let mostRecent: number | undefined;
  for (let t = next(t1 + (missedCount - 2) * between * 1000); t <= now; t = next(t)) mostRecent = t;
  const missed: MissedSchedules = missedCount > TOO_MANY_MISSED ? "many" : missedCount > 0 ? "few" : "none";
  return { earliest, ...(mostRecent !== undefined ? { mostRecent } : {}), missed };
}

/** upstream nextScheduleTimeDuration: how long until just after the next scheduled time. */
export function nextScheduleDelay(cj: CronJob, now: number, schedule: CronSchedule): number {
  let base: number;
  try {
    const r = mostRecentScheduleTime(cj, now, schedule, false);
    base = r.mostRecent ?? (r.missed === "none" ? r.earliest : now);
  } catch {
    base = now;
  }
  return schedule.next(new Date(base)).getTime() + NEXT_SCHEDULE_DELTA_MS - now;
}

/** upstream getJobName: <cronjob>-<scheduled time in minutes since the epoch>. */
export function jobNameFor(cj: CronJob, scheduledMs: number): string {
  return `${cj.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** RFC 3339 of t in time zone tz, as Go's Format(time.RFC3339) ("Z" for UTC, else ±hh:mm). */
export function rfc3339In(t: number, tz: string | undefined): string {
  const zone = tz && tz !== "" ? tz : "UTC";
  if (zone === "UTC") return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  const offsetMin = Math.round((local - Math.floor(t / 1000) * 1000) / 60_000);
  if (offsetMin === 0)
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}Z`;
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const off = `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off}`;
}

/** upstream getJobFromTemplate2: the Job for one scheduled time. */
export function jobFromTemplate(cj: CronJob, scheduledMs: number): Job {
  const tmpl = cj.spec?.jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobNameFor(cj, scheduledMs),
      namespace: cj.metadata.namespace,
      labels: { ...(tmpl?.metadata?.labels ?? {}) },
      annotations: {
        ...(tmpl?.metadata?.annotations ?? {}),
        [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduledMs, cj.spec?.timeZone),
      },
      ownerReferences: [newControllerRef(cj)],
    },
    spec: structuredClone(tmpl?.spec ?? { template: {} }) as NonNullable<Job["spec"]>,
  };
}

const refOf = (job: Job): ObjectReference => ({
  kind: "Job",
  namespace: job.metadata.namespace,
  name: job.metadata.name,
  uid: job.metadata.uid,
  apiVersion: "batch/v1",
  resourceVersion: job.metadata.resourceVersion,
});

/** upstream byJobStartTime: started before not started, then by start time, then name. */
function byStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime;
  const sb = b.status?.startTime;
  if (!sa && sb) return 1;
  if (sa && !sb) return -1;
  if (sa && sb && sa !== sb) return Date.parse(sa) - Date.parse(sb);
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

/** Formats t as Go's time.RFC1123Z in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"). */
function rfc1123z(t: number): string {
  return new Date(t).toUTCString().replace("GMT", "+0000");
}

export class CronJobController implements Controller {
  readonly name = "cronjob";
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #cronJobs: Informer<CronJob>;
  readonly #jobs: Informer<Job>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("cronjob-controller");
    this.queue = new WorkQueue({ name: "cronjob", clock: ctx.clock });
    this.#cronJobs = ctx.informers.informer(CRONJOBS);
    this.#jobs = ctx.informers.informer(JOBS);
    this.#cronJobs.on("add", (cj) => this.queue.add(keyOf(cj)));
    this.#cronJobs.on("update", (old, cur) => this.#updateCronJob(old, cur));
    this.#cronJobs.on("delete", (obj) => this.queue.add(keyOf(objectOf(obj))));
    this.#jobs.on("add", (job) => this.#enqueueOwner(job));
    this.#jobs.on("update", (old, cur) => {
      if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
      const oldRef = controllerRef(old);
      const curRef = controllerRef(cur);
      if (oldRef && oldRef.uid !== curRef?.uid) this.#enqueueOwner(old);
      this.#enqueueOwner(cur);
    });
    this.#jobs.on("delete", (obj) => this.#enqueueOwner(obj));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting cronjob controller");
    if (!(await waitForCacheSync(signal, this.#cronJobs, this.#jobs))) return;
    const onAbort = () => this.queue.shutDown();
    signal.addEventListener("abort", onAbort, { once: true });
    // Not runWorkers: a successful sync asks to come back at the next scheduled time.
    const worker = async () => {
      for (;;) {
        const key = await this.queue.get();
        if (key === undefined) return;
        try {
          if (signal.aborted) continue;
          const after = await this.sync(key);
          this.queue.forget(key);
          if (after !== undefined) this.queue.addAfter(key, after);
        } catch (err) {
          this.#log.warn({ err, key }, "sync failed; requeueing with backoff");
          this.queue.addRateLimited(key);
        } finally {
          this.queue.done(key);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, workers) }, () => worker()));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  #enqueueOwner(obj: Job | Tombstone<Job>): void {
    const job = objectOf(obj);
    const ref = controllerRef(job);
    if (ref?.kind !== "CronJob") return;
    const cj = this.#cronJobs.get(keyFor(job.metadata.namespace, ref.name));
    if (cj && cj.metadata.uid === ref.uid) this.queue.add(keyOf(cj));
  }

  #updateCronJob(old: CronJob, cur: CronJob): void {
    const key = keyOf(cur);
    if (old.spec?.schedule !== cur.spec?.schedule || old.spec?.timeZone !== cur.spec?.timeZone) {
      // A new schedule: wake up at its next time (and sync now, for the status).
      try {
        const sched = parseCronSchedule(cur.spec?.schedule ?? "", cur.spec?.timeZone);
        this.queue.addAfter(key, nextScheduleDelay(cur, this.#clock.now(), sched));
      } catch {
        // An unparseable schedule is reported by sync.
      }
    }
    this.queue.add(key);
  }

  /** The Jobs this CronJob controls (upstream getJobsToBeReconciled: by controllerRef name). */
  #jobsOf(cj: CronJob): Job[] {
    return this.#jobs.byIndex(NAMESPACE_INDEX, cj.metadata.namespace ?? "").filter((j) => {
      const ref = controllerRef(j);
      return ref?.kind === "CronJob" && ref.name === cj.metadata.name;
    });
  }

  /** One reconcile (upstream sync); returns when to look again, if at a set time. */
  async sync(key: string): Promise<number | undefined> {
    const cached = this.#cronJobs.get(key);
    if (!cached) return undefined;
    const jobs = this.#jobsOf(cached);
    const cj = structuredClone(cached);
    cj.status ??= {};
    const cleaned = await this.#cleanupFinishedJobs(cj, jobs);
    let result: { after?: number; updateStatus: boolean; error?: unknown };
    try {
      result = await this.#syncCronJob(cj, jobs);
    } catch (err) {
      result = { updateStatus: false, error: err };
    }
    if (cleaned || result.updateStatus) {
      if (!cj.status.active?.length) delete cj.status.active;
      await this.#client.update(CRONJOBS, cj.metadata.namespace, cj, { subresource: "status" });
    }
    if (result.after !== undefined) return result.after;
    if (result.error !== undefined) throw result.error;
    return undefined;
  }

  /** upstream syncCronJob: the status from the Jobs, then at most one new Job. */
  async #syncCronJob(cj: CronJob, jobs: readonly Job[]): Promise<{ after?: number; updateStatus: boolean }> {
    const now = this.#clock.now();
    const status = cj.status ?? {};
    cj.status = status;
    let updateStatus = false;
    const inActive = (uid: string | undefined) => (status.active ?? []).some((r) => r.uid === uid);
    const dropActive = (uid: string | undefined) => {
      status.active = (status.active ?? []).filter((r) => r.uid !== uid);
    };
    const children = new Set<string>();
    for (const j of jobs) {
      children.add(j.metadata.uid ?? "");
      const found = inActive(j.metadata.uid);
      const finished = finishedStatus(j);
      if (!found && !finished) {
        // Not in our list: maybe our status write is still on its way; read it fresh once.
        const fresh = await this.#client.get(CRONJOBS, cj.metadata.namespace, cj.metadata.name ?? "");
        if ((fresh.status?.active ?? []).some((r) => r.uid === j.metadata.uid)) {
          status.active = fresh.status?.active ?? [];
          continue;
        }
        this.#recorder.event(
          cj,
          "Warning",
          "UnexpectedJob",
          `Saw a job that the controller did not create or forgot: ${j.metadata.name}`,
        );
      } else if (found && finished) {
        dropActive(j.metadata.uid);
        this.#recorder.event(
          cj,
          "Normal",
          "SawCompletedJob",
          `Saw completed job: ${j.metadata.name}, condition: ${finished}`,
        );
        updateStatus = true;
      } else if (finished === "Complete") {
        const done = j.status?.completionTime;
        if (done && (!status.lastSuccessfulTime || Date.parse(done) > Date.parse(status.lastSuccessfulTime))) {
          status.lastSuccessfulTime = done;
          updateStatus = true;
        }
      }
    }
    // Active Jobs that are gone (read fresh: the cache may lag) leave the list.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? "")) continue;
      try {
        await this.#client.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? "");
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.#recorder.event(cj, "Normal", "MissingJob", `Active job went missing: ${ref.name}`);
        dropActive(ref.uid);
        updateStatus = true;
      }
    }
    if (cj.metadata.deletionTimestamp) return { updateStatus };

    const tz = cj.spec?.timeZone;
    if (tz !== undefined && !isKnownTimeZone(tz)) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnknownTimeZone",
        `invalid timeZone: ${JSON.stringify(tz)}: unknown time zone ${tz}`,
      );
      return { updateStatus };
    }
    if (cj.spec?.suspend === true) return { updateStatus };
    const spec = cj.spec?.schedule ?? "";
    if (spec.includes("TZ")) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnsupportedSchedule",
        `CRON_TZ or TZ used in schedule ${JSON.stringify(spec)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
    }
    let sched: CronSchedule;
    try {
      sched = parseCronSchedule(spec, tz);
    } catch (err) {
      this.#recorder.event(
        cj,
        "Warning",
        "UnparseableSchedule",
        `unparseable schedule: ${JSON.stringify(spec)} : ${(err as Error).message}`,
      );
      return { updateStatus };
    }
    let scheduled: number | undefined;
    try {
      const r = mostRecentScheduleTime(cj, now, sched, true);
      if (r.mostRecent !== undefined && r.mostRecent <= now) {
        scheduled = r.mostRecent;
        if (r.missed === "many") {
          this.#recorder.event(
            cj,
            "Warning",
            "TooManyMissedTimes",
            "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew",
          );
          this.#log.info({ key: keyOf(cj) }, "too many missed times");
        }
      }
    } catch (err) {
      this.#recorder.event(cj, "Warning", "InvalidSchedule", `invalid schedule: ${spec} : ${(err as Error).message}`);
      return { updateStatus };
    }
    const after = () => nextScheduleDelay(cj, now, sched);
    if (scheduled === undefined) return { after: after(), updateStatus };

    const sds = cj.spec?.startingDeadlineSeconds;
    if (sds !== undefined && scheduled + sds * 1000 < now) {
      this.#recorder.event(
        cj,
        "Warning",
        "MissSchedule",
        `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`,
      );
      return { after: after(), updateStatus };
    }
    const name = jobNameFor(cj, scheduled);
    if (
      (status.active ?? []).some((r) => r.name === name) ||
      (status.lastScheduleTime !== undefined && Date.parse(status.lastScheduleTime) === scheduled)
    ) {
      return { after: after(), updateStatus };
    }
    const policy = cj.spec?.concurrencyPolicy ?? "Allow";
    if (policy === "Forbid" && (status.active ?? []).length > 0) {
      this.#recorder.event(
        cj,
        "Normal",
        "JobAlreadyActive",
        "Not starting job because prior execution is running and concurrency policy is Forbid",
      );
      return { after: after(), updateStatus };
    }
    if (policy === "Replace") {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.#client.get(JOBS, ref.namespace ?? cj.metadata.namespace, ref.name ?? "");
        } catch (err) {
          this.#recorder.event(cj, "Warning", "FailedGet", `Get job: ${(err as Error).message}`);
          throw err;
        }
        if (!(await this.#deleteJob(cj, job)))
          throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
        updateStatus = true;
      }
    }

    const req = jobFromTemplate(cj, scheduled);
    let created: Job;
    try {
      created = await this.#client.create(JOBS, cj.metadata.namespace, req);
      this.#recorder.event(cj, "Normal", "SuccessfulCreate", `Created job ${created.metadata.name}`);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.#recorder.event(cj, "Warning", "FailedCreate", `Error creating job: ${(err as Error).message}`);
        throw err;
      }
      // Made by an earlier sync whose status write was lost (or by someone else).
      const existing = await this.#client.get(JOBS, cj.metadata.namespace, name);
      if (!isControlledBy(existing, cj) || inActive(existing.metadata.uid)) return { updateStatus };
      this.#log.info({ key: keyOf(cj), job: name }, "job already exists");
      created = existing;
    }
    status.active = [...(status.active ?? []), refOf(created)];
    status.lastScheduleTime = metaTime(scheduled);
    return { after: after(), updateStatus: true };
  }

  /** upstream cleanupFinishedJobs: finished Jobs past the history limits go, oldest first. */
  async #cleanupFinishedJobs(cj: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const okLimit = cj.spec?.successfulJobsHistoryLimit;
    const failedLimit = cj.spec?.failedJobsHistoryLimit;
    if (okLimit === undefined && failedLimit === undefined) return false;
    const ok = jobs.filter((j) => finishedStatus(j) === "Complete");
    const failed = jobs.filter((j) => finishedStatus(j) === "Failed");
    let changed = false;
    if (okLimit !== undefined && (await this.#removeOldest(cj, ok, okLimit))) changed = true;
    if (failedLimit !== undefined && (await this.#removeOldest(cj, failed, failedLimit))) changed = true;
    return changed;
  }

  async #removeOldest(cj: CronJob, jobs: readonly Job[], max: number): Promise<boolean> {
    const n = jobs.length - max;
    if (n <= 0) return false;
    let changed = false;
    for (const j of [...jobs].sort(byStartTime).slice(0, n)) if (await this.#deleteJob(cj, j)) changed = true;
    return changed;
  }

  /** upstream deleteJob: background propagation; the Job leaves status.active. */
  async #deleteJob(cj: CronJob, job: Job): Promise<boolean> {
    const { namespace, name } = splitKey(keyOf(job));
    try {
      await this.#client.delete(JOBS, namespace, name, { propagationPolicy: "Background" });
    } catch (err) {
      if (!isNotFound(err)) {
        this.#recorder.event(cj, "Warning", "FailedDelete", `Deleted job: ${(err as Error).message}`);
        this.#log.error({ err, job: name, key: keyOf(cj) }, "error deleting job from cronjob");
        return false;
      }
    }
    if (cj.status?.active) cj.status.active = cj.status.active.filter((r) => r.uid !== job.metadata.uid);
    this.#recorder.event(cj, "Normal", "SuccessfulDelete", `Deleted job ${name}`);
    return true;
  }
}

export const newCronJobController: ControllerInit = (ctx) => new CronJobController(ctx);
