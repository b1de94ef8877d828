// Shared fakes for unit tests: an in-memory ApiClient, an informer fed by the test, an event
// recorder that keeps what it is given. Not used by production code.

export { type Action, FakeClient } from "./fake-client.js";
export { FakeInformer } from "./fake-informer.js";
export { FakeRecorder, type RecordedEvent } from "./fake-recorder.js";
