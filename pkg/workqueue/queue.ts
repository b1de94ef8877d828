// WorkQueue: client-go's workqueue (queue.go + delaying_queue.go + rate_limiting_queue.go) in one
// class. Keys ("namespace/name") are de-duplicated while waiting (the dirty set), and a key is
// never handed to two workers at once (the processing set): a key added again while it is being
// processed is queued once more when done() is called.
//
// Node has no mutex: every state change in add/get/done happens synchronously, with no await
// between a check and the update that depends on it.

import { type Clock, realClock } from "../runtime/clock.js";
import { type WorkQueueMetrics, type WorkQueueMetricsProvider, workQueueMetrics } from "./metrics.js";

/** When to retry an item, as client-go's RateLimiter. */
export interface RateLimiter {
  /** Delay before the item may be processed again; counts as one more failure. */
  when(item: string): number;
  /** Stop tracking the item (it succeeded). */
  forget(item: string): void;
  numRequeues(item: string): number;
}

/** Per-item exponential backoff: base * 2^failures, capped (client-go: 5 ms .. 1000 s). */
export class ItemExponentialFailureRateLimiter implements RateLimiter {
  readonly #failures = new Map<string, number>();
  constructor(
    readonly baseMs = 5,
    readonly maxMs = 1_000_000,
  ) {}

  when(item: string): number {
    const n = this.#failures.get(item) ?? 0;
    this.#failures.set(item, n + 1);
    // 2^n overflows to Infinity for large n; the cap handles it.
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(item: string): void {
    this.#failures.delete(item);
  }

  numRequeues(item: string): number {
    return this.#failures.get(item) ?? 0;
  }
}

/**
 * Overall token bucket (golang.org/x/time/rate semantics: Reserve always succeeds and the
 * bucket may go into debt; the delay is how long until the debt is paid). Not per item.
 */
export class BucketRateLimiter implements RateLimiter {
  #tokens: number;
  #last: number;
  constructor(
    readonly qps = 10,
    readonly burst = 100,
    readonly clock: Clock = realClock,
  ) {
    this.#tokens = burst;
    this.#last = clock.now();
  }

  when(_item: string): number {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.qps) * 1000);
  }

  forget(_item: string): void {}

  numRequeues(_item: string): number {
    return 0;
  }
}

/** The largest delay of several limiters (every limiter is consulted, so all count the failure). */
export class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: RateLimiter[];
  constructor(...limiters: RateLimiter[]) {
    this.#limiters = limiters;
  }

  when(item: string): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.when(item));
    return max;
  }

  forget(item: string): void {
    for (const l of this.#limiters) l.forget(item);
  }

  numRequeues(item: string): number {
    let max = 0;
    for (const l of this.#limiters) max = Math.max(max, l.numRequeues(item));
    return max;
  }
}

/** client-go's DefaultControllerRateLimiter: max(per-item 5 ms..1000 s, overall 10 qps burst 100). */
export function defaultControllerRateLimiter(clock: Clock = realClock): RateLimiter {
  return new MaxOfRateLimiter(
    new ItemExponentialFailureRateLimiter(5, 1_000_000),
    new BucketRateLimiter(10, 100, clock),
  );
}

export interface WorkQueueOptions {
  /** For logs and metrics (an unnamed queue reports no metrics, as upstream). */
  name?: string;
  /** Where its workqueue_* metrics go (default: the process-wide provider, see metrics.ts). */
  metricsProvider?: WorkQueueMetricsProvider;
  clock?: Clock;
  rateLimiter?: RateLimiter;
}

export class WorkQueue {
  readonly name: string;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  /** FIFO of keys ready to hand out; #head avoids O(n) shift(). */
  #queue: string[] = [];
  #head = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<string>();
  /** Keys handed out and not yet done(). */
  readonly #processing = new Set<string>();
  /** get() callers waiting for a key. */
  readonly #waiters: Array<(key: string | undefined) => void> = [];
  /** addAfter timers, one per key (the earliest wins, as upstream's waitingForQueue). */
  readonly #delayed = new Map<string, { at: number; cancel: () => void }>();
  #shuttingDown = false;
  readonly #metrics: WorkQueueMetrics | undefined;

  constructor(o: WorkQueueOptions = {}) {
    this.name = o.name ?? "";
    this.#clock = o.clock ?? realClock;
    this.#limiter = o.rateLimiter ?? defaultControllerRateLimiter(this.#clock);
    this.#metrics = workQueueMetrics(this.name, o.metricsProvider);
  }

  /** Marks key as needing processing. No-op if it is already waiting, or after shutDown(). */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#metrics?.add(key, this.#clock.now());
    // While processing, done() re-queues it: never two workers on one key.
    if (this.#processing.has(key)) return;
    this.#ready(key);
  }

  /** #ready hands a dirty key to a waiting get(), or queues it. */
  #ready(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#metrics?.get(key, this.#clock.now());
      waiter(key);
      return;
    }
    this.#queue.push(key);
  }

  /** Adds key once ms have passed (immediately if ms <= 0). */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel();
    const cancel = this.#clock.after(ms, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { at, cancel });
  }

  /** Adds key after the rate limiter's delay; each call counts as one more failure. */
  addRateLimited(key: string): void {
    if (!this.#shuttingDown) this.#metrics?.retry();
    this.addAfter(key, this.#limiter.when(key));
  }

  /** The key succeeded: reset its backoff. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key to process; waits while the queue is empty. Resolves undefined once the queue
   * is shut down and drained. Call done(key) when finished with it.
   */
  get(): Promise<string | undefined> {
    if (this.#head < this.#queue.length) {
      const key = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#dirty.delete(key);
      this.#processing.add(key);
      this.#metrics?.get(key, this.#clock.now());
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Finished processing key; if it was added meanwhile, it is queued again now. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    this.#metrics?.done(key, this.#clock.now());
    if (!this.#dirty.has(key)) return;
    this.#ready(key);
  }

  /** Stops accepting keys; waiting get() calls resolve undefined. Queued keys can still be drained. */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Keys ready to be handed out (not counting delayed or in-process ones). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  /** Keys currently handed out to workers. */
  get processingCount(): number {
    return this.#processing.size;
  }

  /** Keys waiting on an addAfter/addRateLimited delay. */
  get delayedCount(): number {
    return this.#delayed.size;
  }
}
