// TokenBucketRateLimiter (client-go util/flowcontrol/throttle.go): `qps` tokens a second, at most
// `burst` saved up; tryAccept takes one if there is one and never waits. A qps of 0 or less accepts
// nothing (upstream's fakeNeverRateLimiter, what the node controller swaps in to stop evictions).

import { type Clock, realClock } from "../runtime/clock.js";

export class TokenBucketRateLimiter {
  #tokens: number;
  #last: number;

  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    this.#tokens = qps > 0 ? burst : 0;
    this.#last = clock.now();
  }

  /** Takes a token if one is available. */
  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.qps);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
