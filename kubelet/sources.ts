// The two inputs the kubelet takes from pkg/, as small interfaces: a pod source (pkg/cache
// Informer with fieldSelector spec.nodeName=<node>) and an event sink (pkg/controller
// EventRecorder). FoldingEventRecorder below is a stand-in used until the shared recorder lands.

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
