// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): a Job with
// spec.ttlSecondsAfterFinished is deleted that long after it finished (the lastTransitionTime
// of its Complete or Failed condition), in the foreground, so its pods go before it does. A Job
// not yet expired is queued again for the moment it will be; before deleting, the Job is read
// fresh from the API server and its TTL checked again (the user may have changed it), and the
// delete carries the fresh object's UID as a precondition.

import { isNotFound } from "#pkg/api/errors.js";
import { keyOf, splitKey } from "#pkg/api/keys.js";
import { JOBS } from "#pkg/api/resources.js";
import type { Job } from "#pkg/api/types/batch.js";
import type { Informer } from "#pkg/cache/informer.js";
import { waitForCacheSync } from "#pkg/cache/wait-for-sync.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext, ControllerInit } from "../controller.js";

function finishedCondition(job: Job) {
  return job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
}

/** upstream needsCleanup: a TTL and a finished Job. */
export function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished !== undefined && finishedCondition(job) !== undefined;
}

/** Milliseconds until the Job expires (≤ 0: expired); throws when its finish time is unknown. */
export function timeLeft(job: Job, now: number): number {
  const at = finishedCondition(job)?.lastTransitionTime;
  const finishAt = at ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(finishAt)) {
    throw new Error(`unable to find the time when the Job ${job.metadata.namespace}/${job.metadata.name} finished`);
  }
  return finishAt + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000 - now;
}

export class TTLAfterFinishedController implements Controller {
  readonly name = "ttl-after-finished";
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #jobs: Informer<Job>;
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(ctx: ControllerContext) {
    this.#client = ctx.client;
    this.#clock = ctx.clock;
    this.#log = ctx.log.child({ controller: this.name });
    this.queue = new WorkQueue({ name: "ttl_jobs_to_delete", clock: ctx.clock });
    this.#jobs = ctx.informers.informer(JOBS);
    this.#jobs.on("add", (job) => this.#enqueue(job));
    this.#jobs.on("update", (_old, cur) => this.#enqueue(cur));
  }

  async run(signal: AbortSignal, workers: number): Promise<void> {
    this.#log.info({ workers }, "starting TTL after finished controller");
    if (!(await waitForCacheSync(signal, this.#jobs))) return;
    await runWorkers(this.queue, workers, (key) => this.sync(key), signal, this.#log);
  }

  #enqueue(job: Job): void {
    if (needsCleanup(job)) this.queue.add(keyOf(job));
  }

  /** Not expired yet: come back when it is. True when it has expired. */
  #expired(key: string, job: Job): boolean {
    if (!needsCleanup(job)) return false;
    const left = timeLeft(job, this.#clock.now());
    if (left <= 0) return true;
    this.queue.addAfter(key, left);
    return false;
  }

  /** upstream processJob. */
  async sync(key: string): Promise<void> {
    const cached = this.#jobs.get(key);
    if (!cached || !this.#expired(key, cached)) return;
    const { namespace, name } = splitKey(key);
    let fresh: Job;
    try {
      fresh = await this.#client.get(JOBS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!this.#expired(key, fresh)) return;
    this.#log.info({ key }, "cleaning up Job");
    try {
      await this.#client.delete(JOBS, namespace, name, {
        propagationPolicy: "Foreground",
        preconditions: { uid: fresh.metadata.uid ?? "" },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

export const newTTLAfterFinishedController: ControllerInit = (ctx) => new TTLAfterFinishedController(ctx);
