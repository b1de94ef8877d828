// client-go's wait package (k8s.io/apimachinery/pkg/util/wait): the loops every long-running
// component is made of, so no component writes its own `while (!signal.aborted)`.

import { type Clock, realClock } from "./clock.js";

/** sleep resolves after ms or as soon as signal aborts; it never rejects. */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = realClock): Promise<void> {
  return clock.sleep(ms, signal);
}

/** jitter: d plus up to maxFactor·d at random (wait.Jitter; maxFactor ≤ 0 means 1). */
export function jitter(ms: number, maxFactor: number, random: () => number = Math.random): number {
  const f = maxFactor <= 0 ? 1 : maxFactor;
  return ms + random() * f * ms;
}

export interface UntilOptions {
  /** Up to this fraction of the period is added at random to every wait (0: none). */
  jitterFactor?: number;
  /** true (wait.Until): the period starts when fn returns; false: when fn starts. */
  sliding?: boolean;
  clock?: Clock;
  /** Called with fn's error; the loop goes on (upstream's HandleCrash + continue). */
  onError?: (err: unknown) => void;
}

/**
 * jitterUntil runs fn every periodMs until signal aborts, then resolves. An error thrown by fn is
 * handed to onError (default: rethrown out of the loop), as wait.JitterUntil.
 */
export async function jitterUntil(
  fn: (signal: AbortSignal) => unknown,
  periodMs: number,
  signal: AbortSignal,
  o: UntilOptions = {},
): Promise<void> {
  const clock = o.clock ?? realClock;
  const sliding = o.sliding ?? true;
  while (!signal.aborted) {
    const wait = o.jitterFactor ? jitter(periodMs, o.jitterFactor) : periodMs;
    const started = clock.now();
    try {
      await fn(signal);
    } catch (err) {
      if (!o.onError) throw err;
      o.onError(err);
    }
    if (signal.aborted) return;
    const left = sliding ? wait : Math.max(0, wait - (clock.now() - started));
    // A zero period (wait.Until(f, 0)) only yields, so I/O and timers run between calls; a 0 ms
    // timer would cost a millisecond per call.
    if (left <= 0) await new Promise<void>((resolve) => setImmediate(resolve));
    else await clock.sleep(left, signal);
  }
}

/** until: wait.Until, fn every periodMs (measured from fn's return) until signal aborts. */
export function until(
  fn: (signal: AbortSignal) => unknown,
  periodMs: number,
  signal: AbortSignal,
  o: Omit<UntilOptions, "jitterFactor" | "sliding"> = {},
): Promise<void> {
  return jitterUntil(fn, periodMs, signal, { ...o, sliding: true });
}

/**
 * pollUntil: wait.PollUntilContextTimeout: calls condition every intervalMs until it returns true
 * (resolves true), the timeout passes or signal aborts (resolves false).
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  intervalMs: number,
  o: { timeoutMs?: number; signal?: AbortSignal; clock?: Clock; immediate?: boolean } = {},
): Promise<boolean> {
  const clock = o.clock ?? realClock;
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : clock.now() + o.timeoutMs;
  if (!o.immediate) await clock.sleep(intervalMs, o.signal);
  for (;;) {
    if (o.signal?.aborted) return false;
    if (await condition()) return true;
    const left = deadline - clock.now();
    if (left <= 0) return false;
    await clock.sleep(Math.min(intervalMs, left), o.signal);
  }
}

/** The delays of a retry loop, as pkg/flowcontrol's Backoff gives them (base, doubling, capped). */
export interface RetryBackoff {
  next(key: string): number;
  reset(key: string): void;
}

/**
 * exponentialBackoff: wait.ExponentialBackoffWithContext: calls condition until it returns true
 * (resolves true, and the key's backoff is reset) or signal aborts (resolves false), waiting
 * backoff.next(key) after every false. An error thrown by condition ends the loop, as upstream.
 */
export async function exponentialBackoff(
  condition: (signal: AbortSignal) => boolean | Promise<boolean>,
  backoff: RetryBackoff,
  signal: AbortSignal,
  o: { key?: string; clock?: Clock } = {},
): Promise<boolean> {
  const clock = o.clock ?? realClock;
  const key = o.key ?? "";
  while (!signal.aborted) {
    if (await condition(signal)) {
      backoff.reset(key);
      return true;
    }
    if (signal.aborted) break;
    await clock.sleep(backoff.next(key), signal);
  }
  return false;
}
