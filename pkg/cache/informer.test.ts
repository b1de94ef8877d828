import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { afterEach, beforeEach, test } from "node:test";
import { waitFor } from "../../test/harness/wait.js";
import type { KubeObject } from "../api/meta.js";
import { NODES, PODS } from "../api/resources.js";
import { ApiClient } from "../client/client.js";
import { type RecordedRequest, sendJson, startTestServer, type TestServer } from "../client/testserver.js";
import { FakeClock } from "../runtime/clock.js";
import { InformerFactory } from "./factory.js";
import { Informer, isTombstone } from "./informer.js";
import { nodeNameIndexFunc } from "./store.js";

function pod(ns: string, name: string, rv: string, nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, resourceVersion: rv },
    spec: nodeName ? { nodeName } : {},
  };
}
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

// A fresh server per test, so a late request of one test never lands in another's record.
let server: TestServer;
let client: ApiClient;
beforeEach(async () => {
  server = await startTestServer();
  client = new ApiClient({ server: server.url });
});
afterEach(async () => {
  await client.close();
  await server.close();
});

type Step = (req: RecordedRequest, res: ServerResponse) => void;
/** Per-resource scripts of list and watch answers; out-of-script watches hang open, lists are empty. */
function script(byResource: Record<string, { lists: Step[]; watches: Step[] }>) {
  server.requests.length = 0;
  server.errors.length = 0;
  const counters = new Map<string, { l: number; w: number }>();
  server.handle((req, res) => {
    const resource = req.url.pathname.split("/").pop()!;
    const s = byResource[resource];
    const c = counters.get(resource) ?? { l: 0, w: 0 };
    counters.set(resource, c);
    const isWatch = req.url.searchParams.get("watch") === "true";
    const step = isWatch ? s?.watches[c.w++] : s?.lists[c.l++];
    if (step) return step(req, res);
    if (isWatch) res.writeHead(200, { "content-type": "application/json" });
    else sendJson(res, 200, { kind: "List", metadata: { resourceVersion: "1" }, items: [] });
  });
}

const until = (cond: () => boolean, what: string) => waitFor(cond, { timeoutMs: 5000, intervalMs: 5, message: what });

test("informer: add/update/delete handlers, indexes, tombstones on relist, resync", async () => {
  let release410: () => void = () => {};
  const gate = new Promise<void>((r) => {
    release410 = r;
  });
  script({
    pods: {
      lists: [
        (_req, res) =>
          sendJson(res, 200, {
            kind: "PodList",
            metadata: { resourceVersion: "10" },
            items: [pod("ns1", "a", "5", "n1"), pod("ns2", "b", "6")],
          }),
        (_req, res) =>
          sendJson(res, 200, {
            kind: "PodList",
            metadata: { resourceVersion: "20" },
            items: [pod("ns1", "a", "12", "n2"), pod("ns1", "d", "19")],
          }),
      ],
      watches: [
        (req, res) => {
          assert.equal(req.url.searchParams.get("resourceVersion"), "10");
          res.writeHead(200, { "content-type": "application/json" });
          res.write(line("ADDED", pod("ns1", "c", "11")));
          res.write(line("MODIFIED", pod("ns1", "a", "12", "n2")));
          res.write(line("DELETED", pod("ns2", "b", "13")));
          // Then the watch expires: the client must relist (c vanished meanwhile: a tombstone).
          void gate.then(() =>
            res.end(
              line("ERROR", { kind: "Status", status: "Failure", reason: "Expired", message: "gone", code: 410 }),
            ),
          );
        },
      ],
    },
  });
  const clock = new FakeClock();
  const inf = new Informer<KubeObject>(client, PODS, { resyncMs: 60_000, clock });
  inf.addIndex("node", nodeNameIndexFunc);
  const events: string[] = [];
  inf.on("add", (o) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`));
  inf.on("update", (o, n) =>
    events.push(`update ${o.metadata.name}@${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
  );
  inf.on("delete", (o) =>
    events.push(
      isTombstone(o) ? `tombstone ${o.key}@${o.lastKnown.metadata.resourceVersion}` : `delete ${o.metadata.name}`,
    ),
  );
  const ac = new AbortController();
  assert.equal(inf.hasSynced(), false);
  const running = inf.run(ac.signal);
  await inf.waitForSync(ac.signal);
  assert.equal(inf.hasSynced(), true);
  assert.equal(inf.byIndex("namespace", "ns1").length, 1);
  assert.equal(inf.byIndex("node", "n1")[0]?.metadata.name, "a");

  await until(() => events.length === 5, "watch events");
  assert.equal(inf.get("ns2/b"), undefined);
  assert.equal(inf.byIndex("node", "n2")[0]?.metadata.name, "a");
  release410();
  await until(() => events.length === 7, "relist events");
  assert.deepEqual(events, [
    "add a@5",
    "add b@6",
    "add c@11",
    "update a@5->12",
    "delete b",
    "tombstone ns1/c@11",
    "add d@19",
  ]);
  assert.deepEqual(
    inf
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ["a", "d"],
  );
  assert.equal(inf.lastSyncResourceVersion, "20");

  // Periodic resync re-delivers every cached object as an update.
  events.length = 0;
  clock.step(60_000);
  assert.deepEqual(events.sort(), ["update a@12->12", "update d@19->19"]);

  // A late "add" subscriber is replayed the current contents.
  const late: string[] = [];
  inf.on("add", (o) => late.push(o.metadata.name!));
  assert.deepEqual(late.sort(), ["a", "d"]);

  ac.abort();
  await running;
  assert.deepEqual(server.errors, []);
});

test("waitForSync rejects when aborted before the first list", async () => {
  script({ nodes: { lists: [() => {}], watches: [] } }); // list never answers
  const inf = new Informer(client, NODES);
  const ac = new AbortController();
  const running = inf.run(ac.signal);
  const waiting = inf.waitForSync(ac.signal);
  await until(() => server.requests.length === 1, "the list request");
  ac.abort();
  await assert.rejects(waiting, /aborted before sync/);
  await running;
});

test("factory shares one informer per resource and selector; waitForSync covers all", async () => {
  script({});
  const factory = new InformerFactory(client);
  const a = factory.informer(PODS);
  assert.equal(factory.for(PODS), a);
  assert.notEqual(factory.informer(PODS, { labelSelector: "app=x" }), a);
  const ac = new AbortController();
  factory.start(ac.signal);
  const n = factory.informer(NODES); // made after start: starts at once
  await factory.waitForSync(ac.signal);
  assert.ok(a.hasSynced() && n.hasSynced());
  const listed = server.requests.filter((r) => r.url.searchParams.get("watch") !== "true");
  assert.equal(listed.length, 3);
  assert.ok(listed.some((r) => r.url.searchParams.get("labelSelector") === "app=x"));
  ac.abort();
  await factory.stopped();
});
