// The two inputs the kubelet takes from pkg/, as small interfaces: a pod source (pkg/cache
// Informer with fieldSelector spec.nodeName=<node>) and an event sink (pkg/controller
// EventRecorder); unit tests can pass fakes.

import type { KubeObject } from "#pkg/api/meta.js";
import type { Pod } from "#pkg/api/types/index.js";

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
