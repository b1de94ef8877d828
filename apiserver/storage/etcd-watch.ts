// A raw etcd watch over one key prefix, on its own gRPC stream (not the etcd3 library's
// WatchBuilder: we need progress requests, whose responses carry watch_id -1 and which that
// library rejects). Reconnects from the last revision seen; reports compaction to the owner.

import type { IEvent, IWatchRequest, IWatchResponse } from "etcd3";
import type { Logger } from "#pkg/runtime/log.js";
import { prefixEnd } from "./codec.js";
import type { EtcdStorage } from "./etcd.js";
import type { KeyEvent, PrefixWatcher, PrefixWatchHandlers } from "./interfaces.js";

interface DuplexStream {
  write(req: IWatchRequest): unknown;
  on(ev: "data", fn: (res: IWatchResponse) => void): DuplexStream;
  on(ev: "error", fn: (err: Error) => void): DuplexStream;
  on(ev: "end", fn: () => void): DuplexStream;
  end(): void;
  cancel?: () => void;
  removeAllListeners(): void;
}

export type { PrefixWatchHandlers } from "./interfaces.js";

function keyEvent(ev: IEvent): KeyEvent {
  return {
    type: ev.type === "Put" ? "Put" : "Delete",
    key: ev.kv.key.toString("utf8"),
    value: ev.type === "Put" ? ev.kv.value : undefined,
    rev: Number(ev.kv.mod_revision),
  };
}

export class PrefixWatch implements PrefixWatcher {
  private stream: DuplexStream | undefined;
  private stopped = false;
  private backoffMs = 100;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** Last revision fully delivered; the next (re)connect starts after it. */
  private rev: number;
  private progressPending = false;

  constructor(
    private readonly storage: EtcdStorage,
    private readonly prefix: string,
    fromRev: number,
    private readonly handlers: PrefixWatchHandlers,
    private readonly log: Logger,
  ) {
    this.rev = fromRev;
  }

  start(): void {
    void this.connect();
  }

  /** Restart from a new revision (after the owner re-listed). */
  restart(fromRev: number): void {
    this.rev = fromRev;
    this.teardown();
    void this.connect();
  }

  /** Ask etcd for a progress notification (coalesced while one is outstanding). */
  requestProgress(): void {
    if (!this.stream || this.progressPending) return;
    this.progressPending = true;
    this.stream.write({ progress_request: {} });
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.teardown();
  }

  private teardown(): void {
    const s = this.stream;
    this.stream = undefined;
    this.progressPending = false;
    if (!s) return;
    s.removeAllListeners();
    s.on("error", () => {});
    try {
      s.cancel?.();
      s.end();
    } catch {
      // already closed
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let stream: DuplexStream;
    try {
      stream = (await this.storage.client.watchClient.watch()) as unknown as DuplexStream;
    } catch (err) {
      this.scheduleReconnect(err);
      return;
    }
    if (this.stopped) {
      stream.end();
      return;
    }
    this.stream = stream;
    stream.on("data", (res) => this.onData(stream, res));
    stream.on("error", (err) => {
      if (this.stream === stream) this.scheduleReconnect(err);
    });
    stream.on("end", () => {
      if (this.stream === stream) this.scheduleReconnect(new Error("watch stream ended"));
    });
    const key = Buffer.from(this.prefix);
    stream.write({
      create_request: {
        key,
        range_end: prefixEnd(key),
        start_revision: this.rev + 1,
        progress_notify: true,
      },
    });
  }

  private onData(stream: DuplexStream, res: IWatchResponse): void {
    if (this.stream !== stream) return;
    this.backoffMs = 100;
    if (res.canceled) {
      const compactRev = Number(res.compact_revision);
      if (compactRev > 0) {
        this.log.warn({ prefix: this.prefix, from: this.rev + 1, compactRev }, "etcd watch start revision compacted");
        this.teardown();
        this.handlers.onCompacted(compactRev);
        return;
      }
      this.scheduleReconnect(new Error(`watch canceled: ${res.cancel_reason}`));
      return;
    }
    const headerRev = Number(res.header.revision);
    if (res.events.length > 0) {
      // One response may carry several revisions; deliver them grouped in order.
      let group: IEvent[] = [];
      let groupRev = 0;
      for (const ev of res.events) {
        const r = Number(ev.kv.mod_revision);
        if (group.length > 0 && r !== groupRev) {
          this.deliver(group, groupRev);
          group = [];
        }
        groupRev = r;
        group.push(ev);
      }
      if (group.length > 0) this.deliver(group, groupRev);
      return;
    }
    if (res.created) return;
    // An empty, non-created response is a progress notification (ours: watch_id -1, or etcd's periodic one).
    this.progressPending = false;
    if (headerRev > this.rev) {
      this.rev = headerRev;
      this.handlers.onProgress(headerRev);
    }
  }

  private deliver(events: IEvent[], rev: number): void {
    if (rev > this.rev) this.rev = rev;
    this.handlers.onEvents(events.map(keyEvent), rev);
  }

  private scheduleReconnect(err: unknown): void {
    this.teardown();
    if (this.stopped) return;
    this.log.warn({ err, prefix: this.prefix, backoffMs: this.backoffMs }, "etcd watch disconnected; reconnecting");
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, this.backoffMs);
    this.reconnectTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
  }
}
