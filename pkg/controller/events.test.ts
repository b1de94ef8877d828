import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import type { KubeObject } from "../api/meta.js";
import { ApiClient } from "../client/client.js";
import { type RecordedRequest, sendJson, startTestServer, type TestServer } from "../client/testserver.js";
import { FakeClock } from "../runtime/clock.js";
import { EventRecorder } from "./events.js";

let server: TestServer;
let client: ApiClient;
/** Event names the fake server knows; PATCH of an unknown one answers 404. */
const stored = new Set<string>();

before(async () => {
  server = await startTestServer();
  client = new ApiClient({ server: server.url });
});
after(async () => {
  await client.close();
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  stored.clear();
  server.handle((req, res) => {
    if (req.method === "POST") {
      const body = JSON.parse(req.body) as KubeObject;
      stored.add(body.metadata.name!);
      return sendJson(res, 201, body);
    }
    const name = req.url.pathname.split("/").pop()!;
    if (req.method === "PATCH" && stored.has(name)) return sendJson(res, 200, {});
    sendJson(res, 404, { kind: "Status", reason: "NotFound", message: `events "${name}" not found`, code: 404 });
  });
});

const pod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "prod", uid: "uid-1", resourceVersion: "42" },
};
const body = (r: RecordedRequest) => JSON.parse(r.body) as Record<string, unknown> & { metadata: { name: string } };

test("the first event is created with upstream's fields; repeats PATCH count and lastTimestamp", async () => {
  const clock = new FakeClock(Date.parse("2026-03-04T05:06:07.890Z"));
  const rec = new EventRecorder(client, { component: "kubelet", host: "node-1", clock });
  rec.event(pod, "Warning", "BackOff", "Back-off restarting failed container");
  await rec.flush();
  clock.step(5000);
  rec.event(pod, "Warning", "BackOff", "Back-off restarting failed container");
  await rec.flush();
  clock.step(5000);
  rec.event(pod, "Warning", "BackOff", "Back-off restarting failed container");
  await rec.flush();

  const [create, ...patches] = server.requests;
  assert.equal(create?.method, "POST");
  assert.equal(create?.url.pathname, "/api/v1/namespaces/prod/events");
  const ev = body(create!);
  assert.match(ev.metadata.name, /^web\.[0-9a-f]+$/);
  assert.deepEqual(ev.involvedObject, {
    kind: "Pod",
    namespace: "prod",
    name: "web",
    uid: "uid-1",
    apiVersion: "v1",
    resourceVersion: "42",
  });
  assert.equal(ev.reason, "BackOff");
  assert.equal(ev.type, "Warning");
  assert.deepEqual(ev.source, { component: "kubelet", host: "node-1" });
  assert.equal(ev.firstTimestamp, "2026-03-04T05:06:07Z");
  assert.equal(ev.lastTimestamp, "2026-03-04T05:06:07Z");
  assert.equal(ev.count, 1);
  assert.equal(ev.reportingComponent, "kubelet");

  assert.equal(patches.length, 2);
  for (const p of patches) {
    assert.equal(p.method, "PATCH");
    assert.equal(p.headers["content-type"], "application/merge-patch+json");
    assert.equal(p.url.pathname, `/api/v1/namespaces/prod/events/${ev.metadata.name}`);
  }
  assert.deepEqual(body(patches[1]!), { count: 3, lastTimestamp: "2026-03-04T05:06:17Z" });
});

test("a burst of repeats while writing coalesces; other messages are separate events", async () => {
  const rec = new EventRecorder(client, { component: "c", clock: new FakeClock() });
  for (let i = 0; i < 10; i++) rec.event(pod, "Normal", "Pulled", "image pulled");
  rec.event(pod, "Normal", "Pulled", "another message");
  await rec.flush();
  const posts = server.requests.filter((r) => r.method === "POST");
  assert.equal(posts.length, 2);
  const patches = server.requests.filter((r) => r.method === "PATCH");
  assert.ok(patches.length <= 9);
  const last = patches.at(-1);
  const firstCount = body(posts[0]!).count as number;
  assert.equal(last ? body(last).count : firstCount, 10, "the final write carries the full count");
});

test("cluster-scoped objects get events in default; an Event deleted meanwhile is re-created with the count", async () => {
  const clock = new FakeClock();
  const rec = new EventRecorder(client, { component: "c", clock });
  const node: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n1", uid: "u" } };
  rec.event(node, "Normal", "Starting", "Starting kubelet.");
  await rec.flush();
  assert.equal(server.requests[0]?.url.pathname, "/api/v1/namespaces/default/events");
  stored.clear(); // someone deleted it
  rec.event(node, "Normal", "Starting", "Starting kubelet.");
  await rec.flush();
  const [, patch, recreate] = server.requests;
  assert.equal(patch?.method, "PATCH");
  assert.equal(recreate?.method, "POST");
  assert.equal(body(recreate!).count, 2);
  assert.notEqual(body(recreate!).metadata.name, body(server.requests[0]!).metadata.name);
});

test("after the window a repeat starts a new Event", async () => {
  const clock = new FakeClock();
  const rec = new EventRecorder(client, { component: "c", clock, windowMs: 60_000 });
  rec.event(pod, "Normal", "Synced", "ok");
  await rec.flush();
  clock.step(61_000);
  rec.event(pod, "Normal", "Synced", "ok");
  await rec.flush();
  assert.deepEqual(
    server.requests.map((r) => r.method),
    ["POST", "POST"],
  );
});

test("the spam filter drops floods of distinct events per object", async () => {
  const clock = new FakeClock();
  const rec = new EventRecorder(client, { component: "c", clock, burst: 5, refillMs: 1000 });
  for (let i = 0; i < 8; i++) rec.event(pod, "Normal", "R", `message ${i}`);
  await rec.flush();
  assert.equal(server.requests.length, 5);
  clock.step(1000);
  rec.event(pod, "Normal", "R", "later");
  await rec.flush();
  assert.equal(server.requests.length, 6);
});
