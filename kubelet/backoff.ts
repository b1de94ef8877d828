// Backoff: per-key exponential delays (client-go's flowcontrol.Backoff as the kubelet uses it for
// CrashLoopBackOff and ImagePullBackOff): the first failure is retried at once, later ones wait
// base, 2×base, ... up to max. An entry is forgotten after it has been quiet for 2×max.

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly baseMs: number,
    readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** delay returns the current delay for key, or 0 when it has none. */
  delay(key: string): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (this.now() - e.lastUpdateMs > 2 * this.maxMs) {
      this.entries.delete(key);
      return 0;
    }
    return e.delayMs;
  }

  /** next records one more retry: the first sets base, each later one doubles (capped). */
  next(key: string): number {
    const cur = this.delay(key);
    const delayMs = cur === 0 ? this.baseMs : Math.min(cur * 2, this.maxMs);
    this.entries.set(key, { delayMs, lastUpdateMs: this.now() });
    return delayMs;
  }

  /** inBackoffSince: true while `since + delay` lies in the future; the remaining ms otherwise 0. */
  remaining(key: string, sinceMs: number): number {
    const d = this.delay(key);
    if (d === 0) return 0;
    return Math.max(0, sinceMs + d - this.now());
  }

  reset(key: string): void {
    this.entries.delete(key);
  }

  /** resetPrefix forgets every key starting with prefix (a pod's containers when the pod goes away). */
  resetPrefix(prefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) this.entries.delete(k);
  }
}
