// PodWorkers: one async worker per pod UID (pkg/kubelet/pod_workers.go in spirit). wake(uid)
// asks for a sync; while a sync runs, further wakes collapse into one more run, so the newest
// state always wins and a pod is never synced by two workers at once. syncPod reads the current
// pod and runtime state itself (level-triggered), so a wake carries no payload. A failed sync is
// retried with the shared flowcontrol Backoff; idle() resolves once no sync is running.

import { Backoff } from "#pkg/flowcontrol/backoff.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";

export interface SyncResult {
  /** Sync again after this many ms (backoff expiry, probe timing); undefined = the periodic resync. */
  requeueAfterMs?: number;
  /** The pod is gone and cleaned up: drop the worker. */
  done?: boolean;
}

interface Worker {
  running: boolean;
  again: boolean;
  cancelTimer?: () => void;
}

/** Errors are retried by the next sync with a growing delay (upstream: "repeated on the next syncPod call"). */
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();
  private readonly retry: Backoff;
  private readonly clock: Clock;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly sync: (uid: string) => Promise<SyncResult>,
    private readonly o: { log: Logger; signal: AbortSignal; resyncMs: number; clock?: Clock },
  ) {
    this.clock = o.clock ?? realClock;
    this.retry = new Backoff(RETRY_BASE_MS, RETRY_MAX_MS, this.clock);
    o.signal.addEventListener("abort", () => {
      for (const w of this.workers.values()) w.cancelTimer?.();
      this.notifyIdle();
    });
  }

  /** wake schedules a sync of the pod with this UID now (or right after the running one). */
  wake(uid: string): void {
    if (this.o.signal.aborted) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { running: false, again: false };
      this.workers.set(uid, w);
    }
    if (w.running) {
      w.again = true;
      return;
    }
    w.cancelTimer?.();
    w.cancelTimer = undefined;
    void this.run(uid, w);
  }

  /** uids of pods that have a worker. */
  known(): string[] {
    return [...this.workers.keys()];
  }

  /** busy is true while any sync is running. */
  get busy(): boolean {
    for (const w of this.workers.values()) if (w.running) return true;
    return false;
  }

  /**
   * idle resolves once no sync is running (at once when none is), or when the workers stop: a
   * shutdown does not wait for syncs in flight (a graceful pod kill can take its whole grace period).
   */
  idle(): Promise<void> {
    if (!this.busy || this.o.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private async run(uid: string, w: Worker): Promise<void> {
    w.running = true;
    let result: SyncResult = {};
    do {
      w.again = false;
      try {
        result = await this.sync(uid);
        this.retry.reset(uid);
      } catch (err) {
        const retryMs = this.retry.next(uid);
        this.o.log.warn({ err, podUid: uid, retryMs }, "syncPod failed");
        result = { requeueAfterMs: retryMs };
      }
    } while (w.again && !this.o.signal.aborted);
    w.running = false;
    if (!this.o.signal.aborted) {
      if (result.done) {
        this.workers.delete(uid);
        this.retry.reset(uid);
      } else {
        const after = Math.max(0, Math.min(result.requeueAfterMs ?? this.o.resyncMs, this.o.resyncMs));
        w.cancelTimer = this.clock.after(after, () => this.wake(uid));
      }
    }
    if (!this.busy) this.notifyIdle();
  }
}
