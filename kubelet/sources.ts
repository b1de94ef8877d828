// The event sink the kubelet takes from pkg/ (pkg/controller EventRecorder), as a small
// interface, so unit tests pass pkg/testing's FakeRecorder.

import type { KubeObject } from "#pkg/api/meta.js";

export interface EventSink {
  event(obj: KubeObject, type: "Normal" | "Warning", reason: string, message: string): void;
}
