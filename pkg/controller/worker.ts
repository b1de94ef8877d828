// runWorkers: the one worker loop every controller uses (sample-controller's processNextWorkItem).
// A sync that throws is retried with the queue's rate limiter; a sync that succeeds forgets
// the key's backoff. Handlers only enqueue keys; sync(key) reads current state from caches.

import type { Logger } from "pino";
import type { WorkQueue } from "../workqueue/queue.js";

/** Throw from sync to drop a key without retrying (the error is logged once). */
export class NoRetryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NoRetryError";
  }
}

export interface RunWorkersOptions {
  /** Give up on a key after this many consecutive failures (default: retry forever, as upstream). */
  maxRetries?: number;
}

/**
 * Runs `workers` concurrent loops pulling keys from `queue` until `signal` aborts (which shuts
 * the queue down). Resolves when every loop has finished its current key and stopped.
 */
export async function runWorkers(
  queue: WorkQueue,
  workers: number,
  sync: (key: string) => Promise<void>,
  signal: AbortSignal,
  log: Logger,
  opts: RunWorkersOptions = {},
): Promise<void> {
  const onAbort = () => queue.shutDown();
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });

  const worker = async (id: number): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      if (signal.aborted) {
        // Shutting down: leave queued work for the next leader/process.
        queue.done(key);
        return;
      }
      const started = performance.now();
      try {
        await sync(key);
        queue.forget(key);
        log.debug({ key, worker: id, ms: Math.round(performance.now() - started) }, "synced");
      } catch (err) {
        const retries = queue.numRequeues(key);
        if (err instanceof NoRetryError || (opts.maxRetries !== undefined && retries >= opts.maxRetries)) {
          log.error({ err, key, retries }, "sync failed; dropping key");
          queue.forget(key);
        } else {
          log.warn({ err, key, retries }, "sync failed; requeueing with backoff");
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, workers) }, (_, i) => worker(i)));
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
