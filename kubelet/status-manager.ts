// StatusManager: the only writer of pod status (pkg/kubelet/status/status_manager.go in spirit).
// syncPod hands it the status it computed; it writes pods/{name}/status only when that differs
// from what the API server last showed (or what we last wrote), one write in flight per pod, and
// retries a conflict against a fresh read.

import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { PODS } from "#pkg/api/resources.js";
import type { Pod, PodStatus } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { Logger } from "#pkg/runtime/log.js";

interface Entry {
  status: PodStatus;
  json: string;
  pod: Pod;
  writing: boolean;
  dirty: boolean;
}

/** normalize drops fields whose difference does not matter for the comparison. */
function canonical(s: PodStatus | undefined): string {
  return JSON.stringify(s ?? {}, (_k, v) => (v === undefined ? undefined : v));
}

export class StatusManager {
  private readonly entries = new Map<string, Entry>();
  private readonly written = new Map<string, string>();

  constructor(private readonly o: { client: ApiClient; log: Logger }) {}

  /** setPodStatus records the desired status and writes it if it changed. Never throws. */
  setPodStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid ?? "";
    const json = canonical(status);
    if (json === canonical(pod.status) || json === this.written.get(uid)) {
      this.entries.delete(uid);
      return;
    }
    const e = this.entries.get(uid);
    if (e) {
      Object.assign(e, { status, json, pod, dirty: true });
      if (!e.writing) void this.flush(uid, e);
      return;
    }
    const ne: Entry = { status, json, pod, writing: false, dirty: true };
    this.entries.set(uid, ne);
    void this.flush(uid, ne);
  }

  /** forget drops state about a pod that is gone. */
  forget(uid: string): void {
    this.entries.delete(uid);
    this.written.delete(uid);
  }

  /** pending is true while writes are queued or in flight. */
  get pending(): boolean {
    return this.entries.size > 0;
  }

  private async flush(uid: string, e: Entry): Promise<void> {
    e.writing = true;
    while (e.dirty) {
      e.dirty = false;
      const { pod, status, json } = e;
      const log = this.o.log.child({ pod: `${pod.metadata.namespace}/${pod.metadata.name}` });
      let attempt = 0;
      let current: Pod = pod;
      for (;;) {
        try {
          const body: Pod = { ...current, apiVersion: "v1", kind: "Pod", status };
          await this.o.client.update(PODS, pod.metadata.namespace, body, { subresource: "status" });
          this.written.set(uid, json);
          log.debug({ phase: status.phase }, "pod status written");
          break;
        } catch (err) {
          if (isNotFound(err)) break;
          if (isConflict(err) && attempt < 5) {
            attempt++;
            try {
              current = await this.o.client.get(PODS, pod.metadata.namespace, pod.metadata.name ?? "");
              if (current.metadata.uid !== uid) break;
              continue;
            } catch (e2) {
              if (isNotFound(e2)) break;
              log.warn({ err: e2 }, "re-reading pod for status update failed");
            }
          }
          log.warn({ err }, "writing pod status failed; will retry on the next sync");
          this.written.delete(uid);
          break;
        }
      }
    }
    e.writing = false;
    if (this.entries.get(uid) === e && !e.dirty) this.entries.delete(uid);
  }
}
