// PLEG, the pod lifecycle event generator (upstream pkg/kubelet/pleg, generic.go and evented.go):
// relists the runtime every period and wakes each pod whose containers changed state; Docker's
// event stream wakes the affected pod at once, the relist is the safety net. It also holds the
// newest runtime list, which every sync reads through freshList().

import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { until } from "#pkg/runtime/wait.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";

/** Runtime events that change a container's state. */
const STATE_EVENTS = new Set(["die", "start", "oom", "destroy", "kill"]);
const EVENT_RECONNECT_MS = 1000;

export interface PlegOptions {
  runtime: Runtime;
  log: Logger;
  clock: Clock;
  relistPeriodMs: number;
  /** Called with the uid of every pod whose containers changed. */
  onPodChanged: (uid: string) => void;
  /** Called after every successful relist (metrics). */
  onRelist?: () => void;
}

export class Pleg {
  private last = new Map<string, string>();
  private cache: ContainerInfo[] = [];
  /** The list begun and not yet done, and the one queued behind it (not begun). */
  private inflight?: Promise<ContainerInfo[]>;
  private next?: Promise<ContainerInfo[]>;

  constructor(private readonly o: PlegOptions) {}

  /** cached: the newest runtime list, without asking the runtime. */
  cached(): ContainerInfo[] {
    return this.cache;
  }

  /**
   * freshList: a runtime list begun no earlier than this call. While a list is in flight, every
   * caller shares the one list queued to begin right after it (upstream's cache GetNewerThan): a
   * burst of syncs costs two lists, not one list per sync in a chain.
   */
  freshList(): Promise<ContainerInfo[]> {
    if (this.next) return this.next;
    if (!this.inflight) return this.startList();
    const next = this.inflight
      .catch(() => undefined)
      .then(() => {
        // From here on this list has begun: later callers need a newer one.
        this.next = undefined;
        return this.startList();
      });
    this.next = next;
    return next;
  }

  private startList(): Promise<ContainerInfo[]> {
    const p = this.o.runtime.list().then((l) => {
      this.cache = l;
      return l;
    });
    this.inflight = p;
    const clear = () => {
      if (this.inflight === p) this.inflight = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  /** podContainers: a fresh list of one pod's containers. */
  async podContainers(uid: string): Promise<ContainerInfo[]> {
    return (await this.freshList()).filter((c) => c.podUid === uid);
  }

  /** run relists and follows the runtime's events until signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      until(() => this.relist(), this.o.relistPeriodMs, signal, {
        clock: this.o.clock,
        onError: (err) => this.o.log.warn({ err }, "runtime relist failed"),
      }),
      until(() => this.followEvents(signal), EVENT_RECONNECT_MS, signal, {
        clock: this.o.clock,
        onError: (err) => {
          if (!signal.aborted) this.o.log.warn({ err }, "runtime event stream failed; reconnecting");
        },
      }),
    ]);
  }

  /** relist: one runtime list, compared with the previous one. */
  async relist(): Promise<void> {
    const list = await this.freshList();
    const now = new Map<string, string>();
    for (const c of list) now.set(c.id, `${c.podUid}|${c.state}`);
    const changed = new Set<string>();
    for (const [id, v] of now) if (this.last.get(id) !== v) changed.add(v.split("|")[0] ?? "");
    for (const [id, v] of this.last) if (!now.has(id)) changed.add(v.split("|")[0] ?? "");
    this.last = now;
    for (const uid of changed) if (uid) this.o.onPodChanged(uid);
    this.o.onRelist?.();
  }

  private async followEvents(signal: AbortSignal): Promise<void> {
    for await (const ev of this.o.runtime.events(signal)) {
      if (STATE_EVENTS.has(ev.action) && ev.podUid) this.o.onPodChanged(ev.podUid);
    }
  }
}
