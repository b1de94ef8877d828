// Shared fakes for unit tests: an in-memory ApiClient, an informer fed by the test, an event
// recorder that keeps what it is given, and a controller's context built over them. Not used by
// production code.

export {
  abortFakeContexts,
  type FakeContextOptions,
  type FakeControllerContext,
  fakeControllerContext,
} from "./controller-context.js";
export { type Action, FakeClient } from "./fake-client.js";
export { FakeInformer } from "./fake-informer.js";
export { FakeRecorder, type RecordedEvent } from "./fake-recorder.js";
