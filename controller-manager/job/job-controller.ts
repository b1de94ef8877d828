// The Job controller (upstream pkg/controller/job/job_controller.go): runs a Job's pods to
// completion. It keeps at most spec.parallelism pods active and no more than the completions
// still missing, replaces failed pods after an exponential backoff until spec.backoffLimit,
// fails the Job past activeDeadlineSeconds or when a podFailurePolicy FailJob rule matches,
// gives Indexed Jobs one pod per completion index, deletes the active pods of a suspended Job,
// and reports the counts and Complete / Failed (after the interim SuccessCriteriaMet /
// FailureTarget) conditions in status.
//
// Finalizer-based tracking, as upstream: every pod it creates carries the
// batch.kubernetes.io/job-tracking finalizer, so a finished pod cannot vanish before it is
// counted. A sync first records the UIDs of newly finished pods in
// status.uncountedTerminatedPods (one status write), then removes their finalizers, then moves
// them into status.succeeded/failed (a second write). A controller that dies at any point
// finds, on restart, each outcome either still on a pod with its finalizer or already in status,
// never both and never neither, so no completion is lost or counted twice. Pods whose Job is
// gone or finished lose the finalizer through a second queue (orphan pods).
//
// Level-triggered: handlers enqueue Job keys (pod events batched by a second, as upstream's
// syncJobBatchPeriod); creations and deletions are guarded by ControllerExpectations, finalizer
// removals by their own UID expectations.

import { isConflict, isNotFound, isStatusError } from "#pkg/api/errors.js";
import { keyFor, keyOf, splitKey } from "#pkg/api/keys.js";
import { type Selector, selectorFromLabelSelector } from "#pkg/api/labels.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { JOBS, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import {
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_TRACKING_FINALIZER,
  type Job,
  type JobCondition,
  type JobStatus,
  type SuccessPolicy,
} from "#pkg/api/types/batch.js";
import type { Pod, PodTemplateSpec } from "#pkg/api/types/core.js";
import type { Informer, Tombstone } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import { NAMESPACE_INDEX } from "#pkg/cache/store.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { EventRecorder } from "#pkg/controller/events.js";
import { ControllerExpectations } from "#pkg/controller/expectations.js";
import { controllerRef, newControllerRef } from "#pkg/controller/owners.js";
import { compareForDeletion, isPodActive, isPodReady } from "#pkg/controller/pod-util.js";
import { claimObjects, recheckDeletionTimestamp } from "#pkg/controller/ref-manager.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";
import {
  type BackoffRecord,
  BackoffStore,
  DEFAULT_POD_FAILURE_BACKOFF_MS,
  finishedTime,
  MAX_POD_FAILURE_BACKOFF_MS,
  remainingBackoff,
} from "./backoff.js";
import {
  addCompletionIndexEnv,
  completionIndex,
  duplicatedIndexPods,
  firstPendingIndexes,
  formatIndexes,
  generateNameWithIndex,
  hasTrackingFinalizer,
  isIndexedJob,
  parseIndexes,
  succeededIndexes,
  UNKNOWN_COMPLETION_INDEX,
} from "./indexes.js";
import {
  failedIndexes,
  hasBackoffLimitPerIndex,
  INDEX_FAILURE_COUNT_ANNOTATION,
  INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
  indexAbsoluteFailureCount,
  newIndexFailureCounts,
  podsWithDelayedDeletion,
} from "./per-index.js";
import { matchPodFailurePolicy, podFailurePolicyOf } from "./pod-failure-policy.js";

/** upstream syncJobBatchPeriod: pod events for a Job are folded into one sync this long after. */
export const SYNC_JOB_BATCH_PERIOD_MS = 1000;
/** upstream MaxUncountedPods: at most this many UIDs in status.uncountedTerminatedPods per sync. */
export const MAX_UNCOUNTED_PODS = 500;
/** upstream MaxPodCreateDeletePerSync. */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
const SLOW_START_INITIAL_BATCH = 1;
/** The value of spec.managedBy that means this controller (upstream JobControllerName). */
export const JOB_CONTROLLER_NAME = "kubernetes.io/job-controller";

export interface JobControllerOptions {
  /** Base of the pod-failure backoff (upstream 10 s; doubled per failure). */
  podFailureBackoffMs?: number;
  /** Cap of the pod-failure backoff (upstream 6 min). */
  maxPodFailureBackoffMs?: number;
  /** upstream syncJobBatchPeriod (1 s). */
  syncBatchPeriodMs?: number;
}

type Cond = Pick<JobCondition, "type" | "status" | "reason" | "message">;

const condOf = (job: Job, type: string): JobCondition | undefined =>
  job.status?.conditions?.find((c) => c.type === type);
const condTrue = (job: Job, type: string): boolean => condOf(job, type)?.status === "True";

/** upstream IsJobFinished: Complete or Failed is True. */
export function isJobFinished(job: Job): boolean {
  return condTrue(job, "Complete") || condTrue(job, "Failed");
}

const isSuspended = (job: Job): boolean => job.spec?.suspend === true;

/** upstream onlyReplaceFailedPods: terminating pods are not replaced until they have failed. */
const onlyReplaceFailedPods = (job: Job): boolean =>
  job.spec?.podReplacementPolicy === "Failed" || podFailurePolicyOf(job) !== undefined;

/** upstream isPodFailed: Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
function isPodFailed(p: Pod, job: Job): boolean {
  if (p.status?.phase === "Failed") return true;
  if (onlyReplaceFailedPods(job)) return false;
  return p.metadata.deletionTimestamp !== undefined && p.status?.phase !== "Succeeded";
}

const isTerminating = (p: Pod): boolean =>
  p.metadata.deletionTimestamp !== undefined && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What one sync of a Job works on (upstream syncJobCtx). */
interface SyncCtx {
  key: string;
  job: Job;
  pods: Pod[];
  activePods: Pod[];
  succeeded: number;
  failed: number;
  ready: number;
  terminating: number;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
  expectedRmFinalizers: ReadonlySet<string>;
  newBackoffRecord: BackoffRecord;
  finished?: Cond | undefined;
  prevSucceededIndexes: number[];
  succeededIndexes: number[];
  /** With backoffLimitPerIndex: the failed indexes, and the failed pod per index awaiting its replacement. */
  failedIndexes?: number[];
  delayedDeletion?: Map<number, Pod>;
}

export class JobController implements Controller {
  readonly name = "job";
  readonly queue: WorkQueue;
  /** Pods with the tracking finalizer whose Job is gone or finished (upstream orphanQueue). */
  readonly orphanQueue: WorkQueue;
  readonly expectations: ControllerExpectations;
  /** Per Job key, the pod UIDs whose finalizer removal was sent but not yet seen (upstream uidTrackingExpectations). */
  readonly #finalizerExpectations = new Map<string, Set<string>>();
  readonly #client: ApiClient;
  readonly #jobs: Informer<Job>;
  readonly #pods: Informer<Pod>;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #backoff = new BackoffStore();
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #batchMs: number;

  constructor(ctx: ControllerContext, o: JobControllerOptions = {}) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.#recorder = ctx.recorder("job-controller");
    this.#backoffBaseMs = o.podFailureBackoffMs ?? DEFAULT_POD_FAILURE_BACKOFF_MS;
    this.#backoffMaxMs = o.maxPodFailureBackoffMs ?? MAX_POD_FAILURE_BACKOFF_MS;
    this.#batchMs = o.syncBatchPeriodMs ?? SYNC_JOB_BATCH_PERIOD_MS;
    this.queue = new WorkQueue({ name: "job", clock: ctx.clock });
    this.orphanQueue = new WorkQueue({ name: "job_orphan_pod", clock: ctx.clock });
    this.expectations = new ControllerExpectations({ clock: ctx.clock });
    this.#jobs = ctx.informers.informer(JOBS);
    this.#pods = ctx.informers.informer(PODS);

    this.#jobs.on("add", (job) => this.queue.add(keyOf(job)));
    this.#jobs.on("update", (old, cur) => this.#updateJob(old, cur));
    this.#jobs.on("delete", (obj) => {
      const job = objectOf(obj);
      this.queue.add(keyOf(job));
      this.#cleanupPodFinalizers(job);
    });
    this.#pods.on("add", (pod) => this.#addPod(pod));
    this.#pods.on("update", (old, cur) => this.#updatePod(old, cur));
    this.#pods.on("delete", (obj) => this.#deletePod(obj, true));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting job controller");
    if (!(await waitForCacheSync(signal, this.#jobs, this.#pods))) return;
    const orphanLog = this.#log.child({ queue: "orphan_pod" });
    await Promise.all([
      runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log),
      runWorkers(this.orphanQueue, 1, (key) => this.syncOrphanPod(key), signal, orphanLog),
    ]);
  }

  // --- event handlers -------------------------------------------------------------------

  #enqueueBatched(job: Job): void {
    this.queue.addAfter(keyOf(job), this.#batchMs);
  }

  #updateJob(old: Job, cur: Job): void {
    const key = keyOf(cur);
    // A spec change syncs at once; status writes (mostly ours) are batched with pod events.
    if (cur.metadata.generation === old.metadata.generation) this.#enqueueBatched(cur);
    else this.queue.add(key);
    // Backup for the finalizers a finished Job's pods may still hold.
    if (isJobFinished(cur)) this.#cleanupPodFinalizers(cur);
    const ads = cur.spec?.activeDeadlineSeconds;
    if (cur.status?.startTime && ads !== undefined && ads !== old.spec?.activeDeadlineSeconds) {
      const passed = this.#clock.now() - Date.parse(cur.status.startTime);
      this.queue.addAfter(key, ads * 1000 - passed);
    }
  }

  /** The cached Job a pod's controllerRef points at, if it is that very object (uid). */
  #resolveRef(namespace: string | undefined, ref: OwnerReference): Job | undefined {
    if (ref.kind !== "Job") return undefined;
    const job = this.#jobs.get(keyFor(namespace, ref.name));
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  /** Jobs whose selector matches an orphan pod (upstream getPodJobs). */
  #matchingJobs(pod: Pod): Job[] {
    if (!pod.metadata.labels) return [];
    return this.#jobs.byIndex(NAMESPACE_INDEX, pod.metadata.namespace ?? "").filter((j) => {
      const sel = this.#selector(j);
      return sel?.matches(pod.metadata.labels) ?? false;
    });
  }

  #selector(job: Job): Selector | undefined {
    try {
      const sel = selectorFromLabelSelector(job.spec?.selector);
      return sel.empty ? undefined : sel;
    } catch {
      return undefined;
    }
  }

  #enqueueOrphanPod(pod: Pod): void {
    this.orphanQueue.add(keyOf(pod));
  }

  #finalizerRemovalObserved(key: string, uid: string | undefined): void {
    if (uid === undefined) return;
    const set = this.#finalizerExpectations.get(key);
    if (!set) return;
    set.delete(uid);
    if (set.size === 0) this.#finalizerExpectations.delete(key);
  }

  #addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen first already being deleted (after a restart): not a creation.
      this.#deletePod(pod, false);
      return;
    }
    const ref = controllerRef(pod);
    if (ref) {
      const job = this.#resolveRef(pod.metadata.namespace, ref);
      if (!job) return;
      this.expectations.creationObserved(keyOf(job));
      this.#enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.#enqueueOrphanPod(pod);
    for (const job of this.#matchingJobs(pod)) this.#enqueueBatched(job);
  }

  #updatePod(old: Pod, cur: Pod): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    if (cur.metadata.deletionTimestamp) {
      // Graceful deletion started: the pod no longer counts, so react now, not when it is gone.
      this.#deletePod(cur, false);
      return;
    }
    const finalizerRemoved = !hasTrackingFinalizer(cur);
    const curRef = controllerRef(cur);
    const oldRef = controllerRef(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef) {
      const job = this.#resolveRef(old.metadata.namespace, oldRef);
      if (job) {
        if (finalizerRemoved) this.#finalizerRemovalObserved(keyOf(job), cur.metadata.uid);
        this.#enqueueBatched(job);
      }
    }
    if (curRef) {
      const job = this.#resolveRef(cur.metadata.namespace, curRef);
      if (!job) return;
      if (finalizerRemoved) this.#finalizerRemovalObserved(keyOf(job), cur.metadata.uid);
      this.#enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(cur)) this.#enqueueOrphanPod(cur);
    const labelsChanged = JSON.stringify(cur.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.#matchingJobs(cur)) this.#enqueueBatched(job);
  }

  /** A pod deleted (final) or being deleted (not final). */
  #deletePod(obj: Pod | Tombstone<Pod>, final: boolean): void {
    const pod = objectOf(obj);
    const ref = controllerRef(pod);
    const hasFinalizer = hasTrackingFinalizer(pod);
    if (!ref) {
      // Maybe a Job's pod whose reference the garbage collector removed.
      if (hasFinalizer) this.#enqueueOrphanPod(pod);
      return;
    }
    const job = this.#resolveRef(pod.metadata.namespace, ref);
    if (!job || isJobFinished(job)) {
      // sync will not remove this finalizer.
      if (hasFinalizer) this.#enqueueOrphanPod(pod);
      return;
    }
    const key = keyOf(job);
    this.expectations.deletionObserved(key);
    if (final || !hasFinalizer) this.#finalizerRemovalObserved(key, pod.metadata.uid);
    this.#enqueueBatched(job);
  }

  /** Queues the finalizer removal of every pod of `job` still holding it (upstream cleanupPodFinalizers). */
  #cleanupPodFinalizers(job: Job): void {
    for (const pod of this.#pods.byIndex(NAMESPACE_INDEX, job.metadata.namespace ?? "")) {
      if (hasTrackingFinalizer(pod) && controllerRef(pod)?.uid === job.metadata.uid) this.#enqueueOrphanPod(pod);
    }
  }

  // --- orphan pods ----------------------------------------------------------------------

  /** Removes the tracking finalizer from a pod whose Job is gone or finished (upstream syncOrphanPod). */
  async syncOrphanPod(key: string): Promise<void> {
    const pod = this.#pods.get(key);
    if (!pod) return;
    const ref = controllerRef(pod);
    if (ref) {
      // Controlled by something other than a batch/v1 Job: not ours to touch.
      if (ref.kind !== "Job" || ref.apiVersion !== "batch/v1") return;
      const job = this.#resolveRef(pod.metadata.namespace, ref);
      if (job?.spec?.managedBy && job.spec.managedBy !== JOB_CONTROLLER_NAME) return;
      // Adopted by a live Job: that Job's sync owns the finalizer.
      if (job && !isJobFinished(job)) return;
    }
    try {
      await this.#removeFinalizer(pod);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Drops the tracking finalizer: a strategic-merge $deleteFromPrimitiveList, as upstream. */
  async #removeFinalizer(pod: Pod): Promise<void> {
    if (!hasTrackingFinalizer(pod)) return;
    const { namespace, name = "" } = pod.metadata;
    try {
      await this.#client.patch(
        PODS,
        namespace,
        name,
        { metadata: { "$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER] } },
        "strategic",
      );
    } catch (err) {
      if (!isStatusError(err) || err.code !== 415) throw err;
      // A server without strategic merge (the tests' fake): a merge patch guarded by resourceVersion.
      const finalizers = (pod.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
      await this.#client.patch(
        PODS,
        namespace,
        name,
        { metadata: { finalizers, resourceVersion: pod.metadata.resourceVersion } },
        "merge",
      );
    }
  }

  // --- sync -----------------------------------------------------------------------------

  /** One reconcile of the Job `key` (upstream syncJob). Throws to be retried. */
  async sync(key: string): Promise<void> {
    const cached = this.#jobs.get(key);
    if (!cached) {
      this.expectations.delete(key);
      this.#finalizerExpectations.delete(key);
      this.#backoff.remove(key);
      return;
    }
    if (cached.spec?.managedBy && cached.spec.managedBy !== JOB_CONTROLLER_NAME) return;
    const job = structuredClone(cached);
    if (isJobFinished(job)) {
      this.#backoff.remove(key);
      return;
    }
    const mode = job.spec?.completionMode;
    if (mode !== undefined && mode !== "NonIndexed" && mode !== "Indexed") {
      this.#recorder.event(
        job,
        "Warning",
        "UnknownCompletionMode",
        "Skipped Job sync because completion mode is unknown",
      );
      return;
    }
    job.status ??= {};
    const status: JobStatus = job.status;
    status.uncountedTerminatedPods ??= {};

    // Expectations first: a pod that arrives after this check waits for the next sync.
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.#podsForJob(job);
    const activePods = pods.filter(isPodActive);
    const uncounted = status.uncountedTerminatedPods;
    const ctx: SyncCtx = {
      key,
      job,
      pods,
      activePods,
      succeeded: 0,
      failed: 0,
      ready: activePods.filter(isPodReady).length,
      terminating: pods.filter(isTerminating).length,
      uncountedSucceeded: new Set(uncounted.succeeded ?? []),
      uncountedFailed: new Set(uncounted.failed ?? []),
      expectedRmFinalizers: new Set(this.#finalizerExpectations.get(key) ?? []),
      newBackoffRecord: { key, failuresAfterLastSuccess: 0 },
      prevSucceededIndexes: [],
      succeededIndexes: [],
    };
    let active = activePods.length;
    const { succeeded: newSucceeded, failed: newFailed } = this.#newFinishedPods(ctx);
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed =
      (status.failed ?? 0) +
      newFailed.filter((p) => matchPodFailurePolicy(podFailurePolicyOf(job), p).countFailed).length +
      ctx.uncountedFailed.size;

    const now = this.#clock.now();
    if (!status.startTime && !isSuspended(job)) status.startTime = metaTime(now);
    ctx.newBackoffRecord = this.#backoff.newRecord(key, newSucceeded, newFailed);

    const backoffLimit = job.spec?.backoffLimit ?? 6;
    ctx.finished = condTrue(job, "SuccessCriteriaMet") ? (condOf(job, "SuccessCriteriaMet") as Cond) : undefined;
    if (!ctx.finished) {
      const target = condOf(job, "FailureTarget");
      if (target?.status === "True") {
        ctx.finished = { type: "Failed", status: "True", reason: target.reason, message: target.message };
      } else {
        const msg = this.#failJobMessage(job, pods);
        if (msg !== undefined)
          ctx.finished = { type: "FailureTarget", status: "True", reason: "PodFailurePolicy", message: msg };
      }
    }
    if (!ctx.finished) {
      const ads = job.spec?.activeDeadlineSeconds;
      if (ctx.failed > backoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finished = failureTarget("BackoffLimitExceeded", "Job has reached the specified backoff limit");
      } else if (this.#pastActiveDeadline(job)) {
        ctx.finished = failureTarget("DeadlineExceeded", "Job was active longer than specified deadline");
      } else if (ads !== undefined && !isSuspended(job) && status.startTime) {
        this.queue.addAfter(key, ads * 1000 - (now - Date.parse(status.startTime)));
      }
    }
    if (isIndexedJob(job)) {
      const idx = succeededIndexes(job, pods);
      ctx.prevSucceededIndexes = idx.prev;
      ctx.succeededIndexes = idx.all;
      ctx.succeeded = idx.all.length;
      if (hasBackoffLimitPerIndex(job)) {
        const failedPod = (p: Pod) => isPodFailed(p, job);
        const failed = failedIndexes(job, pods, failedPod);
        ctx.failedIndexes = failed;
        const maxFailed = job.spec?.maxFailedIndexes;
        if (!ctx.finished) {
          if (maxFailed !== undefined && failed.length > maxFailed) {
            ctx.finished = failureTarget(
              "MaxFailedIndexesExceeded",
              "Job has exceeded the specified maximal number of failed indexes",
            );
          } else if (failed.length > 0 && failed.length + idx.all.length >= (job.spec?.completions ?? 0)) {
            ctx.finished = failureTarget("FailedIndexes", "Job has failed indexes");
          }
        }
        ctx.delayedDeletion = podsWithDelayedDeletion(
          job,
          pods,
          activePods,
          idx.all,
          failed,
          ctx.expectedRmFinalizers,
          failedPod,
        );
      }
      if (!ctx.finished) {
        const msg = matchSuccessPolicy(job.spec?.successPolicy, job.spec?.completions ?? 0, idx.all);
        if (msg !== undefined)
          ctx.finished = { type: "SuccessCriteriaMet", status: "True", reason: "SuccessPolicy", message: msg };
      }
    }

    let manageErr: unknown;
    let suspendCondChanged = false;
    if (ctx.finished) {
      // Finishing: the active pods go (keeping their finalizers until counted).
      const r = await this.#deleteActivePods(job, activePods);
      if (r.deleted !== active || !satisfied) ctx.finished = undefined;
      active -= r.deleted;
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      manageErr = r.error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        const r = await this.#manageJob(job, ctx);
        active = r.active;
        manageErr = r.error;
        manageCalled = true;
      }
      const completions = job.spec?.completions;
      const complete =
        completions === undefined ? ctx.succeeded > 0 && active === 0 : ctx.succeeded >= completions && active === 0;
      if (complete) {
        ctx.finished = {
          type: "SuccessCriteriaMet",
          status: "True",
          reason: "CompletionsReached",
          message: "Reached expected number of succeeded pods",
        };
      } else if (manageCalled) {
        if (isSuspended(job)) {
          if (ensureCondition(job, "Suspended", "True", "JobSuspended", "Job suspended", now)) {
            suspendCondChanged = true;
            this.#recorder.event(job, "Normal", "Suspended", "Job suspended");
          }
        } else if (ensureCondition(job, "Suspended", "False", "JobResumed", "Job resumed", now)) {
          suspendCondChanged = true;
          this.#recorder.event(job, "Normal", "Resumed", "Job resumed");
          // activeDeadlineSeconds counts continuous activity: a resumed Job starts again.
          status.startTime = metaTime(now);
        }
      }
    }

    const needsUpdate =
      suspendCondChanged ||
      active !== (status.active ?? 0) ||
      ctx.ready !== status.ready ||
      ctx.terminating !== status.terminating;
    setCount(status, "active", active);
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.#trackStatusAndRemoveFinalizers(ctx, needsUpdate);
    if (manageErr !== undefined) throw manageErr;
  }

  /** The pods the Job owns, after adopting (with the tracking finalizer) and releasing (upstream getPodsForJob). */
  async #podsForJob(job: Job): Promise<Pod[]> {
    const selector = this.#selector(job);
    const ns = job.metadata.namespace;
    const all = this.#pods.byIndex(NAMESPACE_INDEX, ns ?? "");
    if (!selector) return all.filter((p) => controllerRef(p)?.uid === job.metadata.uid);
    return claimObjects(all, {
      owner: job,
      selector,
      canAdopt: recheckDeletionTimestamp(job, () => this.#client.get(JOBS, ns, job.metadata.name ?? "")),
      adopt: async (pod) => {
        const next = structuredClone(pod);
        next.metadata.ownerReferences = [...(next.metadata.ownerReferences ?? []), newControllerRef(job)];
        if (!hasTrackingFinalizer(next))
          next.metadata.finalizers = [...(next.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
        this.#log.info({ key: keyOf(job), pod: pod.metadata.name }, "adopting pod");
        return this.#client.update(PODS, pod.metadata.namespace, next);
      },
      release: async (pod) => {
        const next = structuredClone(pod);
        next.metadata.ownerReferences = (next.metadata.ownerReferences ?? []).filter((r) => r.uid !== job.metadata.uid);
        await this.#client.update(PODS, pod.metadata.namespace, next);
      },
    });
  }

  /** upstream getNewFinishedPods: finished pods still holding the finalizer and not yet in uncounted. */
  #newFinishedPods(ctx: SyncCtx): { succeeded: Pod[]; failed: Pod[] } {
    const succeeded: Pod[] = [];
    const failed: Pod[] = [];
    const completions = ctx.job.spec?.completions ?? 0;
    for (const p of ctx.pods) {
      const uid = p.metadata.uid ?? "";
      if (!hasTrackingFinalizer(p) || ctx.expectedRmFinalizers.has(uid)) continue;
      if (isIndexedJob(ctx.job)) {
        const ix = completionIndex(p);
        if (ix === UNKNOWN_COMPLETION_INDEX || ix >= completions) continue;
      }
      if (p.status?.phase === "Succeeded" && !ctx.uncountedSucceeded.has(uid)) succeeded.push(p);
      else if (isPodFailed(p, ctx.job) && !ctx.uncountedFailed.has(uid)) failed.push(p);
    }
    return { succeeded, failed };
  }

  #failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
    const policy = podFailurePolicyOf(job);
    if (!policy) return undefined;
    for (const p of pods) {
      if (!isPodFailed(p, job)) continue;
      const m = matchPodFailurePolicy(policy, p);
      if (m.failJobMessage !== undefined) return m.failJobMessage;
    }
    return undefined;
  }

  #pastActiveDeadline(job: Job): boolean {
    const ads = job.spec?.activeDeadlineSeconds;
    const start = job.status?.startTime;
    if (ads === undefined || !start || isSuspended(job)) return false;
    return this.#clock.now() - Date.parse(start) >= ads * 1000;
  }

  /**
   * upstream manageJob: deletes pods above what is wanted (all of them when suspended), else
   * creates the missing ones once the failure backoff has passed. Returns the active count after.
   */
  async #manageJob(job: Job, ctx: SyncCtx): Promise<{ active: number; error?: unknown }> {
    const key = ctx.key;
    let active = ctx.activePods.length;
    const parallelism = job.spec?.parallelism ?? 1;
    if (isSuspended(job)) {
      const victims = activePodsForRemoval(job, ctx.activePods, active);
      this.expectations.expectDeletions(key, victims.length);
      const r = await this.#deleteJobPods(job, key, victims);
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      return { active: active - r.deleted, error: r.error };
    }
    const completions = job.spec?.completions;
    let wantActive: number;
    if (completions === undefined) wantActive = ctx.succeeded > 0 ? active : parallelism;
    else wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));

    const rmAtLeast = Math.max(0, active - wantActive);
    const victims = activePodsForRemoval(job, ctx.activePods, rmAtLeast).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length > 0) {
      this.expectations.expectDeletions(key, victims.length);
      this.#log.debug({ key, deleting: victims.length, wantActive }, "too many pods running for job");
      const r = await this.#deleteJobPods(job, key, victims);
      ctx.terminating += r.deleted;
      ctx.ready -= r.deletedReady;
      // Deletions and creations never in the same sync; deletions first (upstream).
      return { active: active - r.deleted, error: r.error };
    }

    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return { active };
    const perIndex = hasBackoffLimitPerIndex(job);
    // With backoffLimitPerIndex each index backs off on its own (below).
    const remaining = perIndex
      ? 0
      : remainingBackoff(ctx.newBackoffRecord, this.#clock, this.#backoffBaseMs, this.#backoffMaxMs);
    if (remaining > 0) {
      this.queue.addAfter(key, Math.max(remaining, this.#batchMs));
      return { active };
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (isIndexedJob(job)) {
      indexes = firstPendingIndexes(
        ctx.activePods,
        [...ctx.succeededIndexes, ...(ctx.failedIndexes ?? [])],
        diff,
        completions ?? 0,
      );
      if (perIndex) {
        // upstream getPodCreationInfoForIndependentIndexes: the indexes out of their backoff now,
        // else come back when the first one is.
        let soonest: number | undefined;
        indexes = indexes.filter((ix) => {
          const left = this.#indexBackoff(ctx.delayedDeletion?.get(ix));
          if (left > 0) soonest = Math.min(soonest ?? left, left);
          return left === 0;
        });
        if (indexes.length === 0 && soonest !== undefined) {
          this.queue.addAfter(key, Math.max(soonest, this.#batchMs));
          return { active };
        }
      }
      diff = indexes.length;
      if (diff === 0) return { active };
    }
    // Expect before creating: the informer may report a pod before create() returns.
    this.expectations.expectCreations(key, diff);
    this.#log.debug({ key, wantActive, creating: diff }, "too few pods running");
    const template = structuredClone(job.spec?.template ?? {}) as PodTemplateSpec;
    if (isIndexedJob(job)) addCompletionIndexEnv(template);
    template.metadata ??= {};
    if (!(template.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) {
      template.metadata.finalizers = [...(template.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    }
    active += diff;
    let error: unknown;
    let remainingCount = diff;
    for (
      let batch = Math.min(remainingCount, SLOW_START_INITIAL_BATCH);
      remainingCount > 0;
      batch = Math.min(2 * batch, remainingCount)
    ) {
      const results = await Promise.allSettled(
        Array.from({ length: batch }, () => {
          const ix = indexes.length > 0 ? (indexes.shift() as number) : UNKNOWN_COMPLETION_INDEX;
          return this.#createPod(job, template, ix, ctx.delayedDeletion?.get(ix));
        }),
      );
      let batchFailed = false;
      for (const r of results) {
        if (r.status === "fulfilled") continue;
        batchFailed = true;
        // A failed create will never be observed.
        this.expectations.creationObserved(key);
        active--;
        error ??= r.reason;
      }
      remainingCount -= batch;
      if (batchFailed && remainingCount > 0) {
        // Slow start: the ones never tried will be tried by a later sync.
        for (let i = 0; i < remainingCount; i++) this.expectations.creationObserved(key);
        active -= remainingCount;
        break;
      }
    }
    return { active, ...(error !== undefined ? { error } : {}) };
  }

  /** The remaining per-index backoff before replacing `lastFailed` (0: now). */
  #indexBackoff(lastFailed: Pod | undefined): number {
    if (!lastFailed) return 0;
    return remainingBackoff(
      {
        key: "",
        failuresAfterLastSuccess: indexAbsoluteFailureCount(lastFailed) + 1,
        lastFailureTime: finishedTime(lastFailed),
      },
      this.#clock,
      this.#backoffBaseMs,
      this.#backoffMaxMs,
    );
  }

  async #createPod(job: Job, template: PodTemplateSpec, index: number, replaced?: Pod): Promise<void> {
    const t = index === UNKNOWN_COMPLETION_INDEX ? template : structuredClone(template);
    const spec = structuredClone(t.spec ?? { containers: [] });
    let generateName = `${job.metadata.name}-`;
    const annotations = { ...(t.metadata?.annotations ?? {}) };
    const labels = { ...(t.metadata?.labels ?? {}) };
    if (index !== UNKNOWN_COMPLETION_INDEX) {
      annotations[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      labels[JOB_COMPLETION_INDEX_ANNOTATION] = String(index);
      spec.hostname = `${job.metadata.name}-${index}`;
      generateName = generateNameWithIndex(job.metadata.name ?? "", index);
      if (hasBackoffLimitPerIndex(job)) {
        const counts = newIndexFailureCounts(job, replaced);
        annotations[INDEX_FAILURE_COUNT_ANNOTATION] = String(counts.failed);
        if (counts.ignored > 0) annotations[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION] = String(counts.ignored);
      }
    }
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        generateName,
        namespace: job.metadata.namespace,
        labels,
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        finalizers: [...(t.metadata?.finalizers ?? [])],
        ownerReferences: [newControllerRef(job)],
      },
      spec,
    };
    try {
      const created = await this.#client.create(PODS, job.metadata.namespace, pod);
      this.#recorder.event(job, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
    } catch (err) {
      this.#recorder.event(job, "Warning", "FailedCreate", `Error creating: ${errorMessage(err)}`);
      throw err;
    }
  }

  async #deleteOnePod(job: Job, pod: Pod): Promise<void> {
    const name = pod.metadata.name ?? "";
    try {
      await this.#client.delete(PODS, pod.metadata.namespace, name);
      this.#recorder.event(job, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
    } catch (err) {
      if (!isNotFound(err))
        this.#recorder.event(job, "Warning", "FailedDelete", `Error deleting: ${errorMessage(err)}`);
      throw err;
    }
  }

  /** upstream deleteActivePods: deletes keeping the finalizers (counted by trackStatus after). */
  async #deleteActivePods(job: Job, pods: readonly Pod[]) {
    const results = await Promise.allSettled(pods.map((p) => this.#deleteOnePod(job, p)));
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === "rejected" && !isNotFound(r.reason)) {
        error ??= r.reason;
      } else deleted++;
      if (isPodReady(pods[i] as Pod)) deletedReady++;
    });
    return { deleted, deletedReady, error };
  }

  /**
   * upstream deleteJobPods: pods removed before they finished (scale-down, suspend) are not
   * counted, so their finalizer goes first, then the pod.
   */
  async #deleteJobPods(job: Job, key: string, pods: readonly Pod[]) {
    const results = await Promise.allSettled(
      pods.map(async (p) => {
        await this.#removeFinalizer(p);
        await this.#deleteOnePod(job, p);
      }),
    );
    let deleted = 0;
    let deletedReady = 0;
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        // Never to be observed.
        this.expectations.deletionObserved(key);
        if (!isNotFound(r.reason)) error ??= r.reason;
        else deleted++;
      } else deleted++;
      if (isPodReady(pods[i] as Pod)) deletedReady++;
    });
    return { deleted, deletedReady, error };
  }

  /**
   * upstream trackJobStatusAndRemoveFinalizers: (1) newly finished pods into
   * status.uncountedTerminatedPods, (2) their finalizers removed, (3) those without a finalizer
   * moved into the counters, (4) the terminal condition once nothing is uncounted or terminating.
   */
  async #trackStatusAndRemoveFinalizers(ctx: SyncCtx, needsFlushIn: boolean): Promise<void> {
    let needsFlush = needsFlushIn;
    const job = ctx.job;
    const isIndexed = isIndexedJob(job);
    const completions = job.spec?.completions ?? 0;
    const pods = isIndexed ? [...ctx.pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : ctx.pods;
    const withFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata.uid ?? "";
      if (hasTrackingFinalizer(p) && !ctx.expectedRmFinalizers.has(uid)) withFinalizer.add(uid);
    }
    const status = job.status as JobStatus;
    const oldCounters = { succeeded: status.succeeded ?? 0, failed: status.failed ?? 0 };
    if (cleanUncounted(status, withFinalizer)) needsFlush = true;
    const uncounted = status.uncountedTerminatedPods ?? {};
    status.uncountedTerminatedPods = uncounted;
    const toRemove: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    const prev = new Set(ctx.prevSucceededIndexes);
    let reachedMax = false;
    const policy = podFailurePolicyOf(job);
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? "";
      if (!hasTrackingFinalizer(pod) || ctx.expectedRmFinalizers.has(uid)) continue;
      const failed = isPodFailed(pod, job);
      // upstream canRemoveFinalizer (without backoffLimitPerIndex).
      if (!(job.metadata.deletionTimestamp || ctx.finished || pod.status?.phase === "Succeeded" || failed)) continue;
      // A failed pod awaiting its replacement keeps the finalizer, so its failure count reaches it.
      if (
        !(job.metadata.deletionTimestamp || ctx.finished) &&
        pod.status?.phase !== "Succeeded" &&
        ctx.delayedDeletion?.get(completionIndex(pod))?.metadata.uid === uid
      )
        continue;
      toRemove.push(pod);
      if (pod.status?.phase === "Succeeded" && !ctx.uncountedFailed.has(uid)) {
        if (isIndexed) {
          const ix = completionIndex(pod);
          if (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions && !prev.has(ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          uncounted.succeeded = [...(uncounted.succeeded ?? []), uid];
        }
      } else if (failed || (ctx.finished && ctx.finished.type !== "SuccessCriteriaMet")) {
        // Once the Job is finished, every pod not terminated counts as failed.
        const ix = completionIndex(pod);
        if (!ctx.uncountedFailed.has(uid) && (!isIndexed || (ix !== UNKNOWN_COMPLETION_INDEX && ix < completions))) {
          if (matchPodFailurePolicy(policy, pod).countFailed) {
            needsFlush = true;
            uncounted.failed = [...(uncounted.failed ?? []), uid];
          }
        }
      }
      const n = newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0);
      if (n >= MAX_UNCOUNTED_PODS) {
        // Keep status small and this sync short; the writes below bring the Job back.
        reachedMax = true;
        break;
      }
    }
    if (isIndexed) {
      const all = [...new Set([...ctx.succeededIndexes, ...newSucceededIndexes])];
      const s = formatIndexes(all);
      if (s !== (status.completedIndexes ?? "")) needsFlush = true;
      setCount(status, "succeeded", all.length);
      status.completedIndexes = s;
      if (ctx.failedIndexes !== undefined) {
        const f = formatIndexes(ctx.failedIndexes);
        if (f !== (status.failedIndexes ?? undefined)) needsFlush = true;
        status.failedIndexes = f;
      }
    }
    if (ctx.finished?.type === "FailureTarget") {
      // The interim condition first, before finalizers go (so the reason survives a restart).
      status.conditions = [...(status.conditions ?? []), newCondition(ctx.finished, this.#clock.now())];
      needsFlush = true;
      ctx.finished = { ...ctx.finished, type: "Failed" };
    }
    if (ctx.finished?.type === "SuccessCriteriaMet") {
      if (!condTrue(job, "SuccessCriteriaMet")) {
        status.conditions = [...(status.conditions ?? []), newCondition(ctx.finished, this.#clock.now())];
        needsFlush = true;
      }
      ctx.finished = { ...ctx.finished, type: "Complete" };
    }

    // Flush the uncounted UIDs (and interim condition), then remove finalizers.
    if (needsFlush) {
      ctx.job = await this.#updateStatus(ctx.job);
      this.#backoff.update(ctx.newBackoffRecord);
      needsFlush = false;
    }
    let rmErr: unknown;
    if (toRemove.length > 0) {
      const removed = await this.#removeTrackingFinalizers(ctx.key, toRemove);
      toRemove.forEach((p, i) => {
        if (removed.ok[i]) withFinalizer.delete(p.metadata.uid ?? "");
      });
      rmErr = removed.error;
    }
    const st = ctx.job.status as JobStatus;
    if (cleanUncounted(st, withFinalizer)) needsFlush = true;
    if (rmErr !== undefined) {
      if (needsFlush) ctx.job = await this.#updateStatus(ctx.job);
      throw rmErr;
    }
    const finished = !reachedMax && this.#enactJobFinished(ctx);
    if (finished) needsFlush = true;
    if (needsFlush) {
      ctx.job = await this.#updateStatus(ctx.job);
      if (finished && ctx.finished) this.#recordJobFinished(ctx.job, ctx.finished);
    }
    const after = ctx.job.status ?? {};
    if ((after.succeeded ?? 0) !== oldCounters.succeeded || (after.failed ?? 0) !== oldCounters.failed) {
      this.#log.debug({ key: ctx.key, succeeded: after.succeeded ?? 0, failed: after.failed ?? 0 }, "pods counted");
    }
  }

  async #removeTrackingFinalizers(key: string, pods: readonly Pod[]): Promise<{ ok: boolean[]; error?: unknown }> {
    const uids = pods.map((p) => p.metadata.uid ?? "");
    const expected = this.#finalizerExpectations.get(key) ?? new Set<string>();
    for (const u of uids) expected.add(u);
    this.#finalizerExpectations.set(key, expected);
    const results = await Promise.allSettled(pods.map((p) => this.#removeFinalizer(p)));
    const ok: boolean[] = [];
    let error: unknown;
    results.forEach((r, i) => {
      if (r.status === "fulfilled") {
        ok.push(true);
        return;
      }
      // No pod update will come for a failed removal.
      this.#finalizerRemovalObserved(key, uids[i]);
      if (isNotFound(r.reason)) ok.push(true);
      else {
        ok.push(false);
        error ??= r.reason;
      }
    });
    return { ok, ...(error !== undefined ? { error } : {}) };
  }

  /** upstream enactJobFinished: the terminal condition, once every pod is counted and none terminates. */
  #enactJobFinished(ctx: SyncCtx): boolean {
    const fin = ctx.finished;
    if (!fin) return false;
    const job = ctx.job;
    const u = job.status?.uncountedTerminatedPods;
    if ((u?.succeeded?.length ?? 0) + (u?.failed?.length ?? 0) > 0) return false;
    if (ctx.terminating > 0) return false;
    const now = this.#clock.now();
    ensureCondition(job, fin.type, fin.status, fin.reason ?? "", fin.message ?? "", now);
    if (fin.type === "Complete") {
      const st = job.status as JobStatus;
      st.completionTime = condOf(job, "Complete")?.lastTransitionTime ?? metaTime(now);
    }
    return true;
  }

  #recordJobFinished(job: Job, fin: Cond): void {
    if (fin.type === "Complete") {
      const completions = job.spec?.completions;
      if (completions !== undefined && (job.status?.succeeded ?? 0) > completions) {
        this.#recorder.event(
          job,
          "Warning",
          "TooManySucceededPods",
          "Too many succeeded pods running after completion count reached",
        );
      }
      this.#recorder.event(job, "Normal", "Completed", "Job completed");
    } else {
      this.#recorder.event(job, "Warning", fin.reason ?? "", fin.message ?? "");
    }
  }

  /** PUT status from the object the sync works on (its resourceVersion guards against a stale cache). */
  async #updateStatus(job: Job): Promise<Job> {
    try {
      return await this.#client.update(JOBS, job.metadata.namespace, job, { subresource: "status" });
    } catch (err) {
      if (isConflict(err)) {
        const { name } = splitKey(keyOf(job));
        this.#log.debug({ key: keyOf(job), name }, "job status conflict; retrying the sync");
      }
      throw err;
    }
  }
}

function failureTarget(reason: string, message: string): Cond {
  return { type: "FailureTarget", status: "True", reason, message };
}

function newCondition(c: Cond, now: number): JobCondition {
  const t = metaTime(now);
  return {
    type: c.type,
    status: c.status,
    lastProbeTime: t,
    lastTransitionTime: t,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  };
}

/**
 * upstream ensureJobConditionStatus: sets the condition of `type` (a new False one is never
 * added); true when the list changed.
 */
function ensureCondition(
  job: Job,
  type: string,
  status: string,
  reason: string,
  message: string,
  now: number,
): boolean {
  job.status ??= {};
  const st = job.status;
  st.conditions ??= [];
  const list = st.conditions;
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i] as JobCondition;
    if (c.status === status && (c.reason ?? "") === reason && (c.message ?? "") === message) return false;
    list[i] = newCondition({ type, status, reason, message }, now);
    return true;
  }
  if (status === "False") {
    if (list.length === 0) delete st.conditions;
    return false;
  }
  list.push(newCondition({ type, status, reason, message }, now));
  return true;
}

/** upstream cleanUncountedPodsWithoutFinalizers: UIDs whose finalizer is gone move into the counters. */
function cleanUncounted(status: JobStatus, withFinalizer: ReadonlySet<string>): boolean {
  status.uncountedTerminatedPods ??= {};
  const u = status.uncountedTerminatedPods;
  let changed = false;
  const keepS = (u.succeeded ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepS.length !== (u.succeeded ?? []).length) {
    changed = true;
    setCount(status, "succeeded", (status.succeeded ?? 0) + (u.succeeded ?? []).length - keepS.length);
    if (keepS.length > 0) u.succeeded = keepS;
    else delete u.succeeded;
  }
  const keepF = (u.failed ?? []).filter((uid) => withFinalizer.has(uid));
  if (keepF.length !== (u.failed ?? []).length) {
    changed = true;
    setCount(status, "failed", (status.failed ?? 0) + (u.failed ?? []).length - keepF.length);
    if (keepF.length > 0) u.failed = keepF;
    else delete u.failed;
  }
  return changed;
}

/** The int32 counters upstream writes with omitempty: 0 is left out. */
function setCount(status: JobStatus, field: "active" | "succeeded" | "failed", n: number): void {
  if (n > 0) status[field] = n;
  else delete status[field];
}

/** upstream pastBackoffLimitOnFailure: container restarts of running pods, for restartPolicy OnFailure. */
function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== "OnFailure") return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== "Running" && p.status?.phase !== "Pending") continue;
    for (const s of p.status?.initContainerStatuses ?? []) restarts += s.restartCount ?? 0;
    for (const s of p.status?.containerStatuses ?? []) restarts += s.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/**
 * upstream activePodsForRemoval: for Indexed Jobs the pods of repeated or invalid indexes first,
 * then the least advanced (unscheduled, pending, not ready) until rmAtLeast.
 */
function activePodsForRemoval(job: Job, pods: readonly Pod[], rmAtLeast: number): Pod[] {
  let rm: Pod[] = [];
  let left: Pod[] = [...pods];
  if (isIndexedJob(job)) ({ rm, left } = duplicatedIndexPods(pods, job.spec?.completions ?? 0));
  if (rm.length < rmAtLeast) {
    left.sort((a, b) => compareForDeletion(a, b));
    rm = [...rm, ...left.slice(0, rmAtLeast - rm.length)];
  }
  return rm;
}

/**
 * upstream matchSuccessPolicy: the first rule met by the succeeded indexes (all of its
 * succeededIndexes, or succeededCount of them, or succeededCount overall), as "Matched rules at
 * index <i>"; undefined when none is.
 */
export function matchSuccessPolicy(
  policy: SuccessPolicy | undefined,
  completions: number,
  succeeded: readonly number[],
): string | undefined {
  if (!policy || succeeded.length === 0) return undefined;
  const done = new Set(succeeded);
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (required.length === 0) continue;
      const matched = required.filter((i) => done.has(i)).length;
      const met = rule.succeededCount === undefined ? matched === required.length : matched >= rule.succeededCount;
      if (matched > 0 && met) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && succeeded.length >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

export function newJobControllerWith(o: JobControllerOptions): ControllerInit {
  return (ctx) => new JobController(ctx, o);
}

export const newJobController: ControllerInit = (ctx) => new JobController(ctx, ctx.options?.job ?? {});
