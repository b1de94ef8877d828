// Backoff: per-key exponential delays (client-go's util/flowcontrol.Backoff), as the kubelet uses
// it for CrashLoopBackOff, ImagePullBackOff and failing pod syncs: the first failure is retried at
// once, later ones wait base, 2×base, ... up to max. An entry is forgotten after it has been quiet
// for 2×max (upstream's GC of stale entries).

import { type Clock, realClock } from "../runtime/clock.js";

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** delay returns the current delay for key, or 0 when it has none (upstream: Get). */
  delay(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (this.clock.now() - e.lastUpdateMs > 2 * this.maxMs) {
      this.entries.delete(key);
      return 0;
    }
    return e.delayMs;
  }

  /** next records one more retry: the first sets base, each later one doubles (capped). */
  next(key: string): number {
    const cur = this.delay(key);
    const delayMs = cur === 0 ? this.baseMs : Math.min(cur * 2, this.maxMs);
    this.entries.set(key, { delayMs, lastUpdateMs: this.clock.now() });
    return delayMs;
  }

  /** remaining: ms until `since + delay` (upstream: IsInBackOffSince, as a duration); 0 when past. */
  remaining(key: string, sinceMs: number): number {
    const d = this.delay(key);
    if (d === 0) return 0;
    return Math.max(0, sinceMs + d - this.clock.now());
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** resetPrefix forgets every key starting with prefix (a pod's containers when the pod goes away). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
