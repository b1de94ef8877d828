// FakeRecorder: an event recorder that keeps the events it is given (client-go's
// record.FakeRecorder), so unit tests assert on the Events a component emits.

import type { KubeObject } from "../api/meta.js";
import type { EventType } from "../controller/events.js";

export interface RecordedEvent {
  /** namespace/name of the object the event is about. */
  object: string;
  kind?: string;
  type: EventType;
  reason: string;
  message: string;
}

export class FakeRecorder {
  readonly events: RecordedEvent[] = [];

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    const { namespace, name = "" } = obj.metadata;
    this.events.push({ object: namespace ? `${namespace}/${name}` : name, kind: obj.kind, type, reason, message });
  }

  /** The reasons recorded, in order, for one object (namespace/name) or for all. */
  reasons(object?: string): string[] {
    return this.events.filter((e) => !object || e.object === object).map((e) => e.reason);
  }

  clear(): void {
    this.events.length = 0;
  }
}
