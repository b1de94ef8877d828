// Reflector: "watches a specified resource and causes all changes to be reflected in the given
// store" (client-go reflector.go). List, then watch from the list's resourceVersion; all network
// trouble (dropped watches, 410 Expired, failing lists) is handled below it, in watchWithResume,
// so no controller ever deals with it.
//
// Node is single-threaded, so there is no DeltaFIFO: each change is applied to the store and
// handed to the sink at once. A relist that no longer contains an object reports it as a
// Tombstone (client-go's DeletedFinalStateUnknown): the delete was missed, the last known state
// is all we have.

import { keyOf } from "../api/keys.js";
import type { KubeObject } from "../api/meta.js";
import type { ResourceType } from "../api/resources.js";
import type { ApiClient } from "../client/client.js";
import { type WatchWithResumeOptions, watchWithResume } from "../client/watch.js";
import type { Store } from "./store.js";

/** A deletion observed only through a relist: the object's final state is unknown. */
export interface Tombstone<T> {
  readonly tombstone: true;
  readonly key: string;
  readonly lastKnown: T;
}

export function isTombstone<T>(x: T | Tombstone<T>): x is Tombstone<T> {
  return typeof x === "object" && x !== null && (x as { tombstone?: unknown }).tombstone === true;
}

/** The object a delete handler was given, tombstone or not. */
export function objectOf<T>(x: T | Tombstone<T>): T {
  return isTombstone(x) ? x.lastKnown : x;
}

export interface ReflectorSink<T> {
  onAdd(obj: T): void;
  onUpdate(old: T, cur: T): void;
  onDelete(obj: T | Tombstone<T>): void;
  /** A full list was applied (first sync, or a relist after 410). */
  onSynced(resourceVersion: string): void;
}

export interface ReflectorOptions extends Omit<WatchWithResumeOptions, "resourceVersion"> {
  namespace?: string;
}

export class Reflector<T extends KubeObject> {
  #lastSyncResourceVersion = "";

  constructor(
    readonly client: ApiClient,
    readonly resource: ResourceType<T>,
    readonly store: Store<T>,
    readonly sink: ReflectorSink<T>,
    readonly opts: ReflectorOptions = {},
  ) {}

  /** Newest resourceVersion applied to the store. */
  get lastSyncResourceVersion(): string {
    return this.#lastSyncResourceVersion;
  }

  /** Runs until signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const { namespace, ...watchOpts } = this.opts;
    const events = watchWithResume<T>(this.client, this.resource, namespace, watchOpts, signal);
    for await (const ev of events) {
      switch (ev.type) {
        case "RELIST": {
          const { added, updated, deleted } = this.store.replace(ev.items);
          this.#lastSyncResourceVersion = ev.resourceVersion;
          for (const obj of deleted) this.sink.onDelete({ tombstone: true, key: keyOf(obj), lastKnown: obj });
          for (const obj of added) this.sink.onAdd(obj);
          for (const [old, cur] of updated) this.sink.onUpdate(old, cur);
          this.sink.onSynced(ev.resourceVersion);
          break;
        }
        case "ADDED":
        case "MODIFIED": {
          const old = this.store.upsert(ev.object);
          this.#bump(ev.object);
          if (old) this.sink.onUpdate(old, ev.object);
          else this.sink.onAdd(ev.object);
          break;
        }
        case "DELETED": {
          this.store.delete(keyOf(ev.object));
          this.#bump(ev.object);
          this.sink.onDelete(ev.object);
          break;
        }
        case "BOOKMARK":
          this.#bump(ev.object);
          break;
        default:
          break;
      }
    }
  }

  #bump(obj: KubeObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.#lastSyncResourceVersion = rv;
  }
}
