// The scheduling queue (upstream backend/queue/scheduling_queue.go), three structures:
//  - activeQ: pods ready to be tried, a heap by priority (high first), then creation time;
//  - backoffQ: pods that failed recently, a heap by backoff expiry (1 s doubling per attempt,
//    capped at 10 s); a timer moves them to activeQ when their backoff ends;
//  - unschedulable: pods no node fits. Nothing retries them until a cluster event that could
//    help (node added/changed, a pod's resources freed, a claim or PV changed: those move only
//    the pods a queueing hint picks) moves them back, or 5 minutes pass.
// A pod event that arrives while a pod is being scheduled is remembered (moveRequestCycle), so
// a failure that raced with the event goes to backoffQ instead of waiting for the next event.

import { keyOf } from "#pkg/api/keys.js";
import type { Pod } from "#pkg/api/types/index.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import { KeyedHeap } from "./heap.js";

export const DEFAULT_INITIAL_BACKOFF_MS = 1000;
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
/** Upstream podMaxInUnschedulablePodsDuration. */
export const DEFAULT_MAX_IN_UNSCHEDULABLE_MS = 5 * 60_000;

export interface QueuedPodInfo {
  pod: Pod;
  key: string;
  /** When the pod last entered the queue (added, or failed an attempt). */
  timestamp: number;
  /** When the pod first entered the queue. */
  initialAttemptTimestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** metadata.creationTimestamp in ms (parsed once: the heap compares it often). */
  createdMs?: number;
}

export interface SchedulingQueueOptions {
  clock?: Clock;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxInUnschedulableMs?: number;
}

function priorityOf(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

function creationOf(pod: Pod): number {
  const t = Date.parse(pod.metadata.creationTimestamp ?? "");
  return Number.isNaN(t) ? 0 : t;
}

/**
 * isPodUpdated: did anything that could change a scheduling decision change? Status,
 * resourceVersion, generation and managedFields changes do not count, so the scheduler's own
 * PodScheduled=False status write does not re-activate the pod it just gave up on.
 */
export function isPodUpdated(oldPod: Pod, newPod: Pod): boolean {
  const strip = (p: Pod) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata;
    return JSON.stringify({ metadata: meta, spec: p.spec });
  };
  return strip(oldPod) !== strip(newPod);
}

interface InFlight {
  pod: Pod;
  deleted: boolean;
}

export class SchedulingQueue {
  readonly #clock: Clock;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxInUnschedulableMs: number;
  readonly #active = new KeyedHeap<QueuedPodInfo>((a, b) => {
    const pa = priorityOf(a.pod);
    const pb = priorityOf(b.pod);
    if (pa !== pb) return pa > pb;
    a.createdMs ??= creationOf(a.pod);
    b.createdMs ??= creationOf(b.pod);
    const ca = a.createdMs;
    const cb = b.createdMs;
    if (ca !== cb) return ca < cb;
    return a.timestamp < b.timestamp;
  });
  readonly #backoff = new KeyedHeap<QueuedPodInfo>((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  /** Insertion order is entry order, so the first entry is the one to flush first. */
  readonly #unschedulable = new Map<string, QueuedPodInfo>();
  readonly #inFlight = new Map<string, InFlight>();
  #waiters: Array<(q: QueuedPodInfo | undefined) => void> = [];
  #schedulingCycle = 0;
  #moveRequestCycle = -1;
  #closed = false;
  #cancelBackoffTimer: (() => void) | undefined;
  #cancelUnschedTimer: (() => void) | undefined;

  constructor(o: SchedulingQueueOptions = {}) {
    this.#clock = o.clock ?? realClock;
    this.#initialBackoffMs = o.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    this.#maxBackoffMs = o.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    this.#maxInUnschedulableMs = o.maxInUnschedulableMs ?? DEFAULT_MAX_IN_UNSCHEDULABLE_MS;
  }

  get schedulingCycle(): number {
    return this.#schedulingCycle;
  }

  /** backoffDurationMs: initial doubled per attempt after the first, capped at the max. */
  backoffDurationMs(q: QueuedPodInfo): number {
    let d = this.#initialBackoffMs;
    for (let i = 1; i < q.attempts; i++) {
      d *= 2;
      if (d >= this.#maxBackoffMs) return this.#maxBackoffMs;
    }
    return Math.min(d, this.#maxBackoffMs);
  }

  backoffExpiry(q: QueuedPodInfo): number {
    return q.timestamp + this.backoffDurationMs(q);
  }

  #isBackingOff(q: QueuedPodInfo): boolean {
    return q.attempts > 0 && this.backoffExpiry(q) > this.#clock.now();
  }

  /** add queues a new unscheduled pod in activeQ (or refreshes it where it already waits). */
  add(pod: Pod): void {
    const key = keyOf(pod);
    if (this.#updateInPlace(key, pod)) return;
    const inFlight = this.#inFlight.get(key);
    if (inFlight) {
      inFlight.pod = pod;
      return;
    }
    const now = this.#clock.now();
    this.#pushActive({ pod, key, timestamp: now, initialAttemptTimestamp: now, attempts: 0 });
  }

  #updateInPlace(key: string, pod: Pod): boolean {
    for (const heap of [this.#active, this.#backoff]) {
      const q = heap.get(key);
      if (q) {
        q.pod = pod;
        if (heap === this.#active) heap.addOrUpdate(key, q);
        return true;
      }
    }
    return false;
  }

  /** update follows a pod change: an unschedulable pod whose spec/metadata changed gets another try. */
  update(oldPod: Pod, newPod: Pod): void {
    const key = keyOf(newPod);
    if (this.#updateInPlace(key, newPod)) return;
    const u = this.#unschedulable.get(key);
    if (u) {
      u.pod = newPod;
      if (isPodUpdated(oldPod, newPod)) {
        this.#unschedulable.delete(key);
        this.#moveToActiveOrBackoff(u);
        this.#armUnschedulableTimer();
      }
      return;
    }
    const inFlight = this.#inFlight.get(key);
    if (inFlight) {
      inFlight.pod = newPod;
      if (isPodUpdated(oldPod, newPod)) this.#moveRequestCycle = this.#schedulingCycle;
      return;
    }
    this.add(newPod);
  }

  /** delete forgets the pod wherever it is (deleted, or bound by someone else). */
  delete(pod: Pod): void {
    const key = keyOf(pod);
    this.#active.delete(key);
    if (this.#backoff.delete(key)) this.#armBackoffTimer();
    if (this.#unschedulable.delete(key)) this.#armUnschedulableTimer();
    const inFlight = this.#inFlight.get(key);
    if (inFlight) inFlight.deleted = true;
  }

  /**
   * pop waits for the next pod from activeQ; undefined once the queue is closed. The caller
   * must later call done(key), or return the pod with addUnschedulable/addBackoff.
   */
  pop(): Promise<QueuedPodInfo | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const q = this.#active.pop();
    if (q) return Promise.resolve(this.#take(q));
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #take(q: QueuedPodInfo): QueuedPodInfo {
    this.#schedulingCycle++;
    q.attempts++;
    this.#inFlight.set(q.key, { pod: q.pod, deleted: false });
    return q;
  }

  /** done ends an attempt that succeeded (or that the caller dropped). */
  done(key: string): void {
    this.#inFlight.delete(key);
  }

  /** The latest version of an in-flight pod seen by update(). */
  latest(q: QueuedPodInfo): Pod {
    return this.#inFlight.get(q.key)?.pod ?? q.pod;
  }

  /**
   * addUnschedulable returns a pod no node fits. If a move request (a cluster event) came in
   * during its attempt (cycle), it goes to backoffQ; otherwise it waits for an event.
   */
  addUnschedulable(q: QueuedPodInfo, cycle: number): void {
    const f = this.#inFlight.get(q.key);
    this.#inFlight.delete(q.key);
    if (f?.deleted || this.#closed) return;
    if (f) q.pod = f.pod;
    q.timestamp = this.#clock.now();
    if (this.#moveRequestCycle >= cycle) {
      this.#backoff.addOrUpdate(q.key, q);
      this.#armBackoffTimer();
      return;
    }
    this.#unschedulable.set(q.key, q);
    this.#armUnschedulableTimer();
  }

  /** addBackoff returns a pod whose attempt failed with an error (e.g. the bind failed): retry after backoff. */
  addBackoff(q: QueuedPodInfo): void {
    const f = this.#inFlight.get(q.key);
    this.#inFlight.delete(q.key);
    if (f?.deleted || this.#closed) return;
    if (f) q.pod = f.pod;
    q.timestamp = this.#clock.now();
    this.#backoff.addOrUpdate(q.key, q);
    this.#armBackoffTimer();
  }

  /**
   * moveAllToActiveOrBackoff: a cluster event that may make unschedulable pods fit (node
   * added or changed, pod deleted). Pods still in backoff wait out the rest in backoffQ.
   * hint, when given, is the event's queueing hint (upstream QueueingHintFn): only the pods it
   * says the event may help are moved (a claim's change helps the pods that use it).
   */
  moveAllToActiveOrBackoff(_event: string, hint?: (pod: Pod) => boolean): void {
    const pods = [...this.#unschedulable.values()].filter((q) => !hint || hint(q.pod));
    for (const q of pods) this.#unschedulable.delete(q.key);
    for (const q of pods) this.#moveToActiveOrBackoff(q);
    this.#moveRequestCycle = this.#schedulingCycle;
    this.#armUnschedulableTimer();
  }

  #moveToActiveOrBackoff(q: QueuedPodInfo): void {
    if (this.#isBackingOff(q)) {
      this.#backoff.addOrUpdate(q.key, q);
      this.#armBackoffTimer();
    } else {
      this.#pushActive(q);
    }
  }

  #pushActive(q: QueuedPodInfo): void {
    const w = this.#waiters.shift();
    if (w && this.#active.size === 0) {
      w(this.#take(q));
      return;
    }
    if (w) this.#waiters.unshift(w);
    this.#active.addOrUpdate(q.key, q);
    this.#wake();
  }

  #wake(): void {
    while (this.#waiters.length > 0 && this.#active.size > 0) {
      const w = this.#waiters.shift();
      const q = this.#active.pop();
      if (w && q) w(this.#take(q));
    }
  }

  #armBackoffTimer(): void {
    this.#cancelBackoffTimer?.();
    this.#cancelBackoffTimer = undefined;
    const head = this.#backoff.peek();
    if (!head || this.#closed) return;
    this.#cancelBackoffTimer = this.#clock.after(this.backoffExpiry(head) - this.#clock.now(), () => {
      this.#cancelBackoffTimer = undefined;
      this.flushBackoffCompleted();
    });
  }

  /** flushBackoffCompleted moves pods whose backoff ended to activeQ. */
  flushBackoffCompleted(): void {
    const now = this.#clock.now();
    for (;;) {
      const head = this.#backoff.peek();
      if (!head || this.backoffExpiry(head) > now) break;
      this.#backoff.pop();
      this.#pushActive(head);
    }
    this.#armBackoffTimer();
  }

  #armUnschedulableTimer(): void {
    this.#cancelUnschedTimer?.();
    this.#cancelUnschedTimer = undefined;
    const first = this.#unschedulable.values().next();
    if (first.done || this.#closed) return;
    const due = first.value.timestamp + this.#maxInUnschedulableMs;
    this.#cancelUnschedTimer = this.#clock.after(due - this.#clock.now(), () => {
      this.#cancelUnschedTimer = undefined;
      this.flushUnschedulableLeftover();
    });
  }

  /** flushUnschedulableLeftover retries pods that have waited longer than the maximum (5 min). */
  flushUnschedulableLeftover(): void {
    const now = this.#clock.now();
    for (const [key, q] of this.#unschedulable) {
      if (now - q.timestamp < this.#maxInUnschedulableMs) break;
      this.#unschedulable.delete(key);
      this.#moveToActiveOrBackoff(q);
    }
    this.#armUnschedulableTimer();
  }

  /** close wakes every pop() with undefined and cancels the timers. */
  close(): void {
    this.#closed = true;
    this.#cancelBackoffTimer?.();
    this.#cancelUnschedTimer?.();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** Where a pod waits: "active", "backoff", "unschedulable", "inflight" or undefined. */
  where(key: string): "active" | "backoff" | "unschedulable" | "inflight" | undefined {
    if (this.#active.has(key)) return "active";
    if (this.#backoff.has(key)) return "backoff";
    if (this.#unschedulable.has(key)) return "unschedulable";
    if (this.#inFlight.has(key)) return "inflight";
    return undefined;
  }

  pending(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.#active.size, backoff: this.#backoff.size, unschedulable: this.#unschedulable.size };
  }
}
