// The two things the kubelet consumes from pkg/ that had not landed when it was written: a pod
// source (list+watch of the pods bound to this node) and an event sink. Kubelet depends on these
// small interfaces; pkg/cache Informer and pkg/controller EventRecorder satisfy them
// structurally, and the fallbacks below (a plain list+watch, a folding Event writer) keep the
// kubelet working until main.ts switches to the shared ones.

import { isGone, StatusError } from "#pkg/api/errors.js";

const isBadRequest = (e: unknown) => e instanceof StatusError && e.code === 400;

import type { KubeObject } from "#pkg/api/meta.js";
import { type ResourceInfo, registry } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Logger } from "#pkg/runtime/log.js";

export interface PodSource {
  on(ev: "add", h: (obj: Pod) => void): void;
  on(ev: "update", h: (old: Pod, cur: Pod) => void): void;
  on(ev: "delete", h: (obj: Pod | { key: string; lastKnown?: Pod; obj?: Pod }) => void): void;
  run(signal: AbortSignal): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<void>;
  get(key: string): Pod | undefined;
  list(): Pod[];
}

export interface EventSink {
  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}

function info(name: string): ResourceInfo {
  const r = registry.lookup(name);
  if (!r) throw new Error(`${name} missing from the resource registry`);
  return r;
}

type Handler = (...args: Pod[]) => void;

/** ListWatchPodSource: list, then watch from the list's resourceVersion; re-list on 410 or a drop. */
export class ListWatchPodSource implements PodSource {
  private readonly store = new Map<string, Pod>();
  private readonly handlers: Record<"add" | "update" | "delete", Handler[]> = { add: [], update: [], delete: [] };
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];

  /** Set when the server rejected the field selector: we then list everything and filter here. */
  private filterLocally = false;

  constructor(
    private readonly client: ApiClient,
    private readonly o: { fieldSelector?: string; log: Logger; nodeName?: string },
  ) {}

  private mine(p: Pod): boolean {
    return !this.filterLocally || !this.o.nodeName || p.spec?.nodeName === this.o.nodeName;
  }

  private selector(): string | undefined {
    return this.filterLocally ? undefined : this.o.fieldSelector;
  }

  on(ev: "add" | "update" | "delete", h: Handler): void {
    this.handlers[ev].push(h);
  }

  get(key: string): Pod | undefined {
    return this.store.get(key);
  }

  list(): Pod[] {
    return [...this.store.values()];
  }

  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => {
      this.syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  private emit(ev: "add" | "update" | "delete", ...args: Pod[]): void {
    for (const h of this.handlers[ev]) {
      try {
        h(...args);
      } catch (err) {
        this.o.log.error({ err }, "pod handler failed");
      }
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const r = info("pods");
    let failures = 0;
    while (!signal.aborted) {
      try {
        const l = await this.client.list<Pod>(r, undefined, { fieldSelector: this.selector() });
        const seen = new Set<string>();
        for (const p of l.items) {
          if (!this.mine(p)) continue;
          const key = `${p.metadata.namespace}/${p.metadata.name}`;
          seen.add(key);
          const old = this.store.get(key);
          this.store.set(key, p);
          if (old) this.emit("update", old, p);
          else this.emit("add", p);
        }
        for (const [key, p] of [...this.store]) {
          if (!seen.has(key)) {
            this.store.delete(key);
            this.emit("delete", p);
          }
        }
        if (!this.synced) {
          this.synced = true;
          for (const w of this.syncWaiters.splice(0)) w();
        }
        let rv = l.metadata.resourceVersion;
        failures = 0;
        for (;;) {
          for await (const ev of this.client.watch<Pod>(
            r,
            undefined,
            { fieldSelector: this.selector(), resourceVersion: rv, allowWatchBookmarks: true },
            signal,
          )) {
            const p = ev.object;
            if (p.metadata?.resourceVersion) rv = p.metadata.resourceVersion;
            if (ev.type === "BOOKMARK") continue;
            const key = `${p.metadata.namespace}/${p.metadata.name}`;
            const old = this.store.get(key);
            if (ev.type === "DELETED" || !this.mine(p)) {
              if (!old) continue;
              this.store.delete(key);
              this.emit("delete", p);
            } else {
              this.store.set(key, p);
              if (old) this.emit("update", old, p);
              else this.emit("add", p);
            }
          }
          if (signal.aborted) return;
          // The server closed the watch (timeout): resume from the last resourceVersion.
        }
      } catch (err) {
        if (signal.aborted) return;
        if (isBadRequest(err) && !this.filterLocally && this.o.nodeName) {
          this.o.log.warn({ err }, "server rejected the spec.nodeName field selector; filtering pods locally");
          this.filterLocally = true;
          continue;
        }
        failures++;
        if (!isGone(err)) this.o.log.warn({ err }, "pod watch failed; re-listing");
        await new Promise((res) => setTimeout(res, Math.min(200 * 2 ** failures, 5000)));
      }
    }
  }
}

/** FoldingEventRecorder writes core/v1 Events, folding repeats into count/lastTimestamp. */
export class FoldingEventRecorder implements EventSink {
  private readonly seen = new Map<string, { name: string; ns: string; count: number; first: string }>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ApiClient,
    private readonly o: { component: string; host?: string; log: Logger },
  ) {}

  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void {
    this.chain = this.chain
      .then(() => this.write(obj, type, reason, message))
      .catch((err) => {
        this.o.log.debug({ err, reason }, "writing event failed");
      });
  }

  private async write(obj: KubeObject, type: string, reason: string, message: string): Promise<void> {
    const r = info("events");
    const ns = obj.metadata.namespace ?? "default";
    const key = `${obj.metadata.uid}|${type}|${reason}|${message}`;
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      await this.client.patch(r, prev.ns, prev.name, { count: prev.count, lastTimestamp: now }, "merge");
      return;
    }
    const name = `${obj.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
    await this.client.create(r, ns, {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: {
        apiVersion: obj.apiVersion ?? "v1",
        kind: obj.kind ?? "Pod",
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.o.component, ...(this.o.host ? { host: this.o.host } : {}) },
      reportingComponent: this.o.component,
      reportingInstance: this.o.host ?? "",
    });
    this.seen.set(key, { name, ns, count: 1, first: now });
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
  }
}
