// EventRecorder: writes core/v1 Events about objects, as client-go's record.EventRecorder with
// its EventCorrelator:
// - repeats of the same (object, type, reason, message, source) within a window are folded into
//   one Event: the first is created, later ones PATCH count and lastTimestamp, so a crash-looping
//   pod does not flood etcd;
// - a per-object token bucket (burst 25, one more every 5 minutes, as upstream's spam filter)
//   drops floods of distinct events;
// - fire-and-forget: event() never throws or blocks the caller; failures are logged.

import { hostname } from "node:os";
import { isAlreadyExists, isNotFound } from "../api/errors.js";
import type { KubeObject } from "../api/meta.js";
import { EVENTS } from "../api/resources.js";
import { metaTime } from "../api/time.js";
import type { Event } from "../api/types/core.js";
import type { ApiClient } from "../client/client.js";
import { type Clock, realClock } from "../runtime/clock.js";
import { type Logger, silentLogger } from "../runtime/log.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  /** source.component and reportingComponent, e.g. "default-scheduler", "kubelet". */
  component: string;
  /** source.host and reportingInstance (kubelets: the node name). */
  host?: string;
  log?: Logger;
  clock?: Clock;
  /** Repeats within this window fold into one Event (default 10 minutes). */
  windowMs?: number;
  /** Spam filter per object: bucket size (default 25) and refill interval (default 5 min). */
  burst?: number;
  refillMs?: number;
  /** Events waiting to be written beyond this are dropped (default 1000). */
  maxPending?: number;
}

interface Entry {
  name: string;
  namespace: string;
  body: Event;
  count: number;
  lastTimestamp: string;
  lastSeenMs: number;
  created: boolean;
  writing: boolean;
  dirty: boolean;
}

const MAX_ENTRIES = 4096;

export class EventRecorder {
  readonly #client: ApiClient;
  readonly #component: string;
  readonly #host: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #maxPending: number;
  /** Correlation key -> the Event it folds into (LRU by insertion order). */
  readonly #entries = new Map<string, Entry>();
  /** Object -> spam-filter bucket. */
  readonly #buckets = new Map<string, { tokens: number; last: number }>();
  readonly #inflight = new Set<Promise<void>>();
  #seq = 0;

  constructor(client: ApiClient, o: EventRecorderOptions) {
    this.#client = client;
    this.#component = o.component;
    this.#host = o.host ?? hostname();
    this.#log = (o.log ?? silentLogger).child({ module: "events" });
    this.#clock = o.clock ?? realClock;
    this.#windowMs = o.windowMs ?? 10 * 60_000;
    this.#burst = o.burst ?? 25;
    this.#refillMs = o.refillMs ?? 5 * 60_000;
    this.#maxPending = o.maxPending ?? 1000;
  }

  /** Records an event about obj. Never throws; the write happens in the background. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    try {
      this.#record(obj, type, reason, message);
    } catch (err) {
      this.#log.error({ err, reason }, "cannot record event");
    }
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
  }

  #record(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const meta = obj.metadata;
    const involvedObject = {
      kind: obj.kind,
      namespace: meta.namespace,
      name: meta.name,
      uid: meta.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: meta.resourceVersion,
    };
    const objLog = { kind: obj.kind, namespace: meta.namespace, name: meta.name, type, reason };
    this.#log.debug({ ...objLog, message }, "event");

    const now = this.#clock.now();
    const objectKey = [obj.apiVersion, obj.kind, meta.namespace, meta.name, meta.uid].join("|");
    if (!this.#allow(objectKey, now)) {
      this.#log.debug(objLog, "event dropped by spam filter");
      return;
    }
    const key = [this.#component, this.#host, objectKey, type, reason, message].join("|");
    const existing = this.#entries.get(key);
    if (existing && now - existing.lastSeenMs < this.#windowMs) {
      existing.count++;
      existing.lastSeenMs = now;
      existing.lastTimestamp = metaTime(now);
      // Refresh LRU position.
      this.#entries.delete(key);
      this.#entries.set(key, existing);
      this.#schedule(existing);
      return;
    }
    if (this.#inflight.size >= this.#maxPending) {
      this.#log.warn(objLog, "too many pending events; dropping");
      return;
    }
    const namespace = meta.namespace || "default";
    const name = `${meta.name ?? "unknown"}.${this.#uniqueSuffix(now)}`;
    const ts = metaTime(now);
    const body: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      type,
      source: { component: this.#component, host: this.#host },
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
      reportingComponent: this.#component,
      reportingInstance: this.#host,
    };
    const entry: Entry = {
      name,
      namespace,
      body,
      count: 1,
      lastTimestamp: ts,
      lastSeenMs: now,
      created: false,
      writing: false,
      dirty: false,
    };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > MAX_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#schedule(entry);
  }

  /** Upstream names events "<object>.<unix nanos in hex>"; a sequence keeps them unique within a ms. */
  #uniqueSuffix(now: number): string {
    this.#seq = (this.#seq + 1) % 1_000_000;
    return (BigInt(now) * 1_000_000n + BigInt(this.#seq)).toString(16);
  }

  #allow(objectKey: string, now: number): boolean {
    let b = this.#buckets.get(objectKey);
    if (!b) {
      b = { tokens: this.#burst, last: now };
      this.#buckets.set(objectKey, b);
      if (this.#buckets.size > MAX_ENTRIES) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.last) / this.#refillMs);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** One writer per Event at a time; repeats arriving meanwhile are written by that writer. */
  #schedule(entry: Entry): void {
    if (entry.writing) {
      entry.dirty = true;
      return;
    }
    entry.writing = true;
    const p = this.#write(entry).finally(() => {
      entry.writing = false;
      this.#inflight.delete(p);
    });
    this.#inflight.add(p);
  }

  async #write(entry: Entry): Promise<void> {
    do {
      entry.dirty = false;
      const count = entry.count;
      const lastTimestamp = entry.lastTimestamp;
      const ok = await this.#withRetries(entry, async () => {
        if (!entry.created) {
          await this.#create(entry, count, lastTimestamp);
          return;
        }
        try {
          await this.#client.patch(EVENTS, entry.namespace, entry.name, { count, lastTimestamp }, "merge");
        } catch (err) {
          // The Event was deleted (or expired by TTL): start a new one carrying the count.
          if (!isNotFound(err)) throw err;
          entry.name = `${entry.body.involvedObject.name ?? "unknown"}.${this.#uniqueSuffix(this.#clock.now())}`;
          await this.#create(entry, count, lastTimestamp);
        }
      });
      if (!ok) return;
    } while (entry.dirty);
  }

  async #create(entry: Entry, count: number, lastTimestamp: string): Promise<void> {
    const body: Event = {
      ...entry.body,
      metadata: { name: entry.name, namespace: entry.namespace },
      count,
      lastTimestamp,
    };
    try {
      await this.#client.create(EVENTS, entry.namespace, body);
    } catch (err) {
      // A retry after a lost response: the Event is there already.
      if (!isAlreadyExists(err)) throw err;
    }
    entry.created = true;
  }

  /** Up to 3 attempts for connection errors and 5xx; 4xx are final. */
  async #withRetries(entry: Entry, fn: () => Promise<void>): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        return true;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const retryable = typeof code !== "number" || code >= 500 || code === 429;
        const ctx = { err, namespace: entry.namespace, event: entry.name, reason: entry.body.reason };
        if (!retryable || attempt >= 3) {
          this.#log.warn(ctx, "cannot write event; dropping it");
          return false;
        }
        await this.#clock.sleep(1000 * attempt);
      }
    }
  }
}
