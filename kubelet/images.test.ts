import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod, Secret } from "#pkg/api/types/index.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { FakeRecorder } from "#pkg/testing/index.js";
import { ImageManager } from "./images.js";
import { FakeRuntime } from "./runtime/fake.js";

const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u1" } };

function setup() {
  const runtime = new FakeRuntime();
  const events = new FakeRecorder();
  const clock = new FakeClock();
  const images = new ImageManager({
    runtime,
    events,
    log: silentLogger,
    clock,
    backoffBaseMs: 10_000,
    backoffMaxMs: 40_000,
    signal: new AbortController().signal,
  });
  return { runtime, events, clock, images };
}

test("pull policies: IfNotPresent uses a local image, Always pulls, Never never does", async () => {
  const { runtime, events, images } = setup();
  runtime.images.add("local:1");
  assert.deepEqual(await images.ensureImageExists(pod, "local:1", "IfNotPresent", "c", undefined), { ready: true });
  assert.deepEqual(runtime.calls, []);
  runtime.pullable.add("local:1");
  assert.deepEqual(await images.ensureImageExists(pod, "local:1", "Always", "c", undefined), { ready: true });
  assert.deepEqual(runtime.calls, ["pull local:1"]);
  const never = await images.ensureImageExists(pod, "absent:1", "Never", "c", undefined);
  assert.equal(never.ready, false);
  assert.equal(!never.ready && never.waiting?.reason, "ErrImageNeverPull");
  assert.deepEqual(events.reasons(), ["Pulled", "Pulling", "Pulled", "ErrImageNeverPull"]);
});

test("a failing pull: ErrImagePull, then ImagePullBackOff until the backoff passes, then a new pull", async () => {
  const { runtime, events, clock, images } = setup();
  const first = await images.ensureImageExists(pod, "nope:1", "IfNotPresent", "c", undefined);
  assert.deepEqual(first.ready ? undefined : [first.waiting?.reason, first.retryMs], ["ErrImagePull", 1000]);
  const waiting = first.ready ? undefined : first.waiting;
  clock.step(1000);
  const second = await images.ensureImageExists(pod, "nope:1", "IfNotPresent", "c", waiting);
  assert.deepEqual(second.ready ? undefined : [second.waiting?.reason, second.retryMs], ["ImagePullBackOff", 9000]);
  assert.equal(runtime.calls.length, 1, "no pull during the backoff");
  clock.step(9000);
  runtime.pullable.add("nope:1");
  assert.deepEqual(
    await images.ensureImageExists(pod, "nope:1", "IfNotPresent", "c", second.ready ? undefined : second.waiting),
    { ready: true },
  );
  assert.deepEqual(runtime.calls, ["pull nope:1", "pull nope:1"]);
  assert.deepEqual(events.reasons(), ["Pulling", "Failed", "Failed", "BackOff", "Pulling", "Pulled"]);
});

test("an image that exists locally but failed to pull recently is used as is", async () => {
  const { runtime, images } = setup();
  runtime.images.add("cached:latest");
  assert.deepEqual(await images.ensureImageExists(pod, "cached:latest", "Always", "c", undefined), { ready: true });
  assert.deepEqual(await images.ensureImageExists(pod, "cached:latest", "Always", "c", undefined), { ready: true });
  assert.deepEqual(runtime.calls, ["pull cached:latest"], "the second start does not pull again");
});

test("imagePullSecrets: the matching registry's credentials are tried in turn until a pull succeeds", async () => {
  const runtime = new FakeRuntime();
  const dockerconfig = (auths: Record<string, unknown>): Secret => ({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "x", namespace: "default" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(JSON.stringify({ auths })).toString("base64") },
  });
  const secrets = [
    dockerconfig({ "reg.example:5000": { username: "old", password: "p1" } }),
    dockerconfig({ "https://reg.example:5000/team": { auth: Buffer.from("new:p2").toString("base64") } }),
    dockerconfig({ "other.example": { username: "nobody", password: "p3" } }),
  ];
  const asked: string[] = [];
  const images = new ImageManager({
    runtime,
    events: new FakeRecorder(),
    log: silentLogger,
    clock: new FakeClock(),
    backoffBaseMs: 10_000,
    backoffMaxMs: 40_000,
    signal: new AbortController().signal,
    pullSecrets: async (p) => {
      asked.push(...(p.spec?.imagePullSecrets ?? []).map((s) => s.name ?? ""));
      return secrets;
    },
  });
  const withSecrets: Pod = { ...pod, spec: { containers: [], imagePullSecrets: [{ name: "regcred" }] } };
  runtime.pullable.add("reg.example:5000/team/app:1");
  runtime.refusedAuth.add("new");
  assert.deepEqual(
    await images.ensureImageExists(withSecrets, "reg.example:5000/team/app:1", "Always", "c", undefined),
    {
      ready: true,
    },
  );
  assert.deepEqual(asked, ["regcred"]);
  // The entry with a path is more specific, so first; refused, the host-wide one pulls.
  assert.deepEqual(runtime.calls, [
    "pull reg.example:5000/team/app:1 as new@reg.example:5000",
    "pull reg.example:5000/team/app:1 as old@reg.example:5000",
  ]);
  // A pod without imagePullSecrets pulls without credentials (and without asking for any).
  runtime.calls.length = 0;
  runtime.pullable.add("plain:1");
  await images.ensureImageExists(pod, "plain:1", "Always", "c", undefined);
  assert.deepEqual(runtime.calls, ["pull plain:1"]);
  assert.deepEqual(asked, ["regcred"]);
});
