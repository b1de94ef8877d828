// BoundedFrequencyRunner (upstream's pkg/proxy/runner/bounded_frequency_runner.go): run() asks
// for a sync; syncs never start closer together than minIntervalMs (--min-sync-period), requests
// that arrive meanwhile fold into one, and a sync runs at least every maxIntervalMs
// (--sync-period) even when nothing asked. A failed sync is retried after minIntervalMs (at
// least 1 s). One sync at a time.

import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";

export interface BoundedFrequencyRunnerOptions {
  name: string;
  fn: () => Promise<void>;
  minIntervalMs: number;
  maxIntervalMs: number;
  clock?: Clock;
  log: Logger;
}

export class BoundedFrequencyRunner {
  readonly #o: BoundedFrequencyRunnerOptions;
  readonly #clock: Clock;
  #lastStartMs = Number.NEGATIVE_INFINITY;
  #running = false;
  #pending = false;
  #cancelTimer: (() => void) | undefined;
  #timerAtMs = Number.POSITIVE_INFINITY;
  #stopped = false;
  #idle: Array<() => void> = [];

  constructor(o: BoundedFrequencyRunnerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock;
  }

  /** start arms the periodic sync and runs the first one at once; stop() (or signal) ends it. */
  start(signal?: AbortSignal): void {
    signal?.addEventListener("abort", () => this.stop(), { once: true });
    this.run();
  }

  /** run asks for a sync: now if the last one started at least minInterval ago, else then. */
  run(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#pending = true;
      return;
    }
    this.#schedule(Math.max(0, this.#lastStartMs + this.#o.minIntervalMs - this.#clock.now()));
  }

  /** stop: no sync starts any more; resolves when the one running (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    if (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  /** Arms the timer for delayMs from now, unless it already fires sooner. */
  #schedule(delayMs: number): void {
    const at = this.#clock.now() + delayMs;
    if (this.#cancelTimer && this.#timerAtMs <= at) return;
    this.#cancelTimer?.();
    this.#timerAtMs = at;
    this.#cancelTimer = this.#clock.after(delayMs, () => {
      this.#cancelTimer = undefined;
      this.#timerAtMs = Number.POSITIVE_INFINITY;
      void this.#tick();
    });
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#running) return;
    this.#running = true;
    this.#pending = false;
    this.#lastStartMs = this.#clock.now();
    let failed = false;
    try {
      await this.#o.fn();
    } catch (err) {
      failed = true;
      this.#o.log.error({ err, runner: this.#o.name }, "sync failed; retrying");
    } finally {
      this.#running = false;
      for (const w of this.#idle.splice(0)) w();
    }
    if (this.#stopped) return;
    if (failed || this.#pending) {
      const retryMs = failed ? Math.max(this.#o.minIntervalMs, 1000) : this.#o.minIntervalMs;
      this.#schedule(Math.max(0, this.#lastStartMs + retryMs - this.#clock.now()));
    } else {
      this.#schedule(Math.max(0, this.#lastStartMs + this.#o.maxIntervalMs - this.#clock.now()));
    }
  }
}
