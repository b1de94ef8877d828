// RateLimitedTimedQueue (upstream pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go):
// the nodes waiting for their NoExecute taint, one queue per zone, drained at --node-eviction-rate
// by a token bucket. A node stays in the queue's set after it was processed, so that the next
// monitor pass does not queue it again; remove() (the node is healthy again, or lost its taint)
// forgets it.

import { TokenBucketRateLimiter } from "#pkg/flowcontrol/throttle.js";
import type { Clock } from "#pkg/runtime/clock.js";

/** EvictionRateLimiterBurst: one node at once, then one every 1/qps seconds. */
export const EVICTION_RATE_LIMITER_BURST = 1;

export interface TimedValue {
  value: string;
  uid: string;
  addedAt: number;
  processAt: number;
}

/** The action for a value: done (true), or retry after `retryAfterMs`. */
export type TryResult = { done: true } | { done: false; retryAfterMs: number };

export class RateLimitedTimedQueue {
  #limiter: TokenBucketRateLimiter;
  /** Values waiting, oldest processAt first. */
  #queue: TimedValue[] = [];
  /** Every value added and not removed, processed or not. */
  readonly #set = new Set<string>();
  #seq = 0;

  constructor(
    qps: number,
    private readonly clock: Clock,
  ) {
    this.#limiter = new TokenBucketRateLimiter(qps, EVICTION_RATE_LIMITER_BURST, clock);
  }

  get qps(): number {
    return this.#limiter.qps;
  }

  /** Adds a value unless it is in the set already; true if added. */
  add(value: string, uid: string): boolean {
    if (this.#set.has(value)) return false;
    const now = this.clock.now();
    this.#set.add(value);
    this.#queue.push({ value, uid, addedAt: now + this.#seq++ * 1e-6, processAt: now });
    return true;
  }

  /** Forgets a value (queued or already processed); true if it was known. */
  remove(value: string): boolean {
    this.#queue = this.#queue.filter((v) => v.value !== value);
    return this.#set.delete(value);
  }

  /** The values waiting to be processed (for tests and logs). */
  waiting(): string[] {
    return this.#queue.map((v) => v.value);
  }

  /**
   * try processes due values in order while the limiter gives tokens (upstream Try): a value
   * whose action is done leaves the queue (and stays in the set); one that asks for a retry is
   * due again after the delay.
   */
  async try(fn: (v: TimedValue) => Promise<TryResult>): Promise<void> {
    for (;;) {
      this.#queue.sort((a, b) => a.processAt - b.processAt || a.addedAt - b.addedAt);
      const head = this.#queue[0];
      if (!head) return;
      if (!this.#limiter.tryAccept()) return;
      const now = this.clock.now();
      if (now < head.processAt) return;
      const r = await fn(head);
      const i = this.#queue.indexOf(head);
      if (i < 0) continue; // removed meanwhile
      if (r.done) this.#queue.splice(i, 1);
      else head.processAt = now + r.retryAfterMs + 1;
    }
  }

  /**
   * swapLimiter (upstream SwapLimiter): a new rate; a limiter with no token left hands its
   * emptiness on, so a rate change does not grant an extra eviction.
   */
  swapLimiter(qps: number): void {
    if (this.#limiter.qps === qps) return;
    const next = new TokenBucketRateLimiter(qps, EVICTION_RATE_LIMITER_BURST, this.clock);
    if (!this.#limiter.tryAccept()) next.tryAccept();
    this.#limiter = next;
  }
}
