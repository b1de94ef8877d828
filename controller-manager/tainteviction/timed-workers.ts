// TimedWorkerQueue (upstream pkg/controller/tainteviction/timed_workers.go): one pending action
// per key (a pod), run at its time on the injected clock. A key whose action succeeded stays
// known (as done), so that it is not scheduled again until it is cancelled (the pod went away,
// or its node's taints did); a failed action forgets the key, so the next update may retry.

import type { Clock } from "#pkg/runtime/clock.js";

export interface TimedWork {
  fireAt: number;
}

interface Entry extends TimedWork {
  cancel: () => void;
}

export class TimedWorkerQueue {
  /** key → pending work, or null once its work succeeded. */
  readonly #workers = new Map<string, Entry | null>();
  readonly #inflight = new Set<Promise<void>>();

  constructor(
    private readonly work: (key: string, fireAt: number) => Promise<void>,
    private readonly clock: Clock,
    private readonly onError: (key: string, err: unknown) => void,
  ) {}

  /** Schedules work for key at fireAt (at once if due); a no-op while key is known. */
  addWork(key: string, fireAt: number): void {
    if (this.#workers.has(key)) return;
    const entry: Entry = { fireAt, cancel: () => {} };
    this.#workers.set(key, entry);
    const delay = fireAt - this.clock.now();
    if (delay <= 0) this.#fire(key, entry);
    else entry.cancel = this.clock.after(delay, () => this.#fire(key, entry));
  }

  #fire(key: string, entry: Entry): void {
    const p = this.work(key, entry.fireAt).then(
      () => {
        // Cancelled while running: the key stays forgotten.
        if (this.#workers.get(key) === entry) this.#workers.set(key, null);
      },
      (err: unknown) => {
        if (this.#workers.get(key) === entry) this.#workers.delete(key);
        this.onError(key, err);
      },
    );
    const tracked = p.finally(() => this.#inflight.delete(tracked));
    this.#inflight.add(tracked);
  }

  /** Forgets key; true if it had work still pending (a cancellation worth an event). */
  cancelWork(key: string): boolean {
    const entry = this.#workers.get(key);
    if (entry === undefined) return false;
    this.#workers.delete(key);
    if (!entry) return false;
    entry.cancel();
    return true;
  }

  /** The pending work of key: undefined when none, null when it is done. */
  getWork(key: string): TimedWork | null | undefined {
    const entry = this.#workers.get(key);
    return entry === null ? null : entry ? { fireAt: entry.fireAt } : undefined;
  }

  /** Pending keys (for tests and logs). */
  pending(): string[] {
    return [...this.#workers].filter(([, e]) => e !== null).map(([k]) => k);
  }

  /** Cancels every pending timer and waits for running work. */
  async stop(): Promise<void> {
    for (const e of this.#workers.values()) e?.cancel();
    this.#workers.clear();
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  /** Waits for the work that is running now (tests). */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }
}
