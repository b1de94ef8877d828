// PodWorkers: one async worker per pod UID (pkg/kubelet/pod_workers.go in spirit). wake(uid)
// asks for a sync; while a sync runs, further wakes collapse into one more run, so the newest
// state always wins and a pod is never synced by two workers at once. syncPod reads the current
// pod and runtime state itself (level-triggered), so a wake carries no payload.

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
  timer?: NodeJS.Timeout;
  failures: number;
}

export class PodWorkers {
  private readonly workers = new Map<string, Worker>();

  constructor(
    private readonly sync: (uid: string) => Promise<SyncResult>,
    private readonly o: { log: Logger; signal: AbortSignal; resyncMs: number },
  ) {
    o.signal.addEventListener("abort", () => {
      for (const w of this.workers.values()) clearTimeout(w.timer);
    });
  }

  /** wake schedules a sync of the pod with this UID now (or right after the running one). */
  wake(uid: string): void {
    if (this.o.signal.aborted) return;
    let w = this.workers.get(uid);
    if (!w) {
      w = { running: false, again: false, failures: 0 };
      this.workers.set(uid, w);
    }
    if (w.running) {
      w.again = true;
      return;
    }
    clearTimeout(w.timer);
    w.timer = undefined;
    void this.run(uid, w);
  }

  /** uids of pods that have a worker. */
  known(): string[] {
    return [...this.workers.keys()];
  }

  /** busy is true while any sync is running (tests and shutdown wait on it). */
  get busy(): boolean {
    for (const w of this.workers.values()) if (w.running) return true;
    return false;
  }

  private async run(uid: string, w: Worker): Promise<void> {
    w.running = true;
    let result: SyncResult = {};
    do {
      w.again = false;
      try {
        result = await this.sync(uid);
        w.failures = 0;
      } catch (err) {
        w.failures++;
        // Errors are retried by the next sync with a growing delay (upstream: "repeated on the next syncPod call").
        const retryMs = Math.min(500 * 2 ** (w.failures - 1), 30_000);
        this.o.log.warn({ err, podUid: uid, retryMs }, "syncPod failed");
        result = { requeueAfterMs: retryMs };
      }
    } while (w.again && !this.o.signal.aborted);
    w.running = false;
    if (this.o.signal.aborted) return;
    if (result.done) {
      this.workers.delete(uid);
      return;
    }
    const after = Math.max(0, Math.min(result.requeueAfterMs ?? this.o.resyncMs, this.o.resyncMs));
    w.timer = setTimeout(() => this.wake(uid), after);
    w.timer.unref?.();
  }
}
