import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { after, before, test } from "node:test";
import { waitFor } from "../../test/harness/wait.js";
import type { KubeObject } from "../api/meta.js";
import { PODS } from "../api/resources.js";
import { FakeClock } from "../runtime/clock.js";
import { ApiClient } from "./client.js";
import { type RecordedRequest, sendJson, startTestServer, type TestServer } from "./testserver.js";
import { type ResumableEvent, watchWithResume } from "./watch.js";

function pod(name: string, rv: string): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", resourceVersion: rv } };
}
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

let server: TestServer;
let client: ApiClient;
before(async () => {
  server = await startTestServer();
  client = new ApiClient({ server: server.url });
});
after(async () => {
  await client.close();
  await server.close();
});

/** Runs a scripted server: each list/watch request is answered by the next script step of its kind. */
function script(steps: {
  lists: Array<(req: RecordedRequest, res: ServerResponse) => void>;
  watches: Array<(req: RecordedRequest, res: ServerResponse) => void>;
}) {
  server.requests.length = 0;
  server.errors.length = 0;
  let l = 0;
  let w = 0;
  server.handle((req, res) => {
    const isWatch = req.url.searchParams.get("watch") === "true";
    const step = isWatch ? steps.watches[w++] : steps.lists[l++];
    if (!step) {
      // Out of script: hold the connection open until the client goes away.
      res.writeHead(200, { "content-type": "application/json" });
      return;
    }
    step(req, res);
  });
}

const watchRequests = () => server.requests.filter((r) => r.url.searchParams.get("watch") === "true");

test("lists, watches, resumes from the last RV after a dropped connection, honours bookmarks, relists on 410", async () => {
  script({
    lists: [
      (req, res) => {
        assert.equal(req.url.searchParams.get("resourceVersion"), "0");
        sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "10" }, items: [pod("a", "5")] });
      },
      (req, res) => {
        // After a 410: consistent, paged read.
        assert.equal(req.url.searchParams.get("resourceVersion"), null);
        assert.equal(req.url.searchParams.get("limit"), "500");
        assert.equal(req.url.searchParams.get("continue"), null);
        sendJson(res, 200, {
          kind: "PodList",
          metadata: { resourceVersion: "20", continue: "p2" },
          items: [pod("b", "18")],
        });
      },
      (req, res) => {
        assert.equal(req.url.searchParams.get("continue"), "p2");
        sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "20" }, items: [pod("c", "19")] });
      },
    ],
    watches: [
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(line("ADDED", pod("b", "11")));
        res.write(line("MODIFIED", pod("a", "12")));
        // Drop the connection mid-stream (half a line written).
        res.write('{"type":"MODIFIED","obj');
        setImmediate(() => res.socket?.destroy());
      },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(line("BOOKMARK", { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "15" } }));
        res.end(); // clean close (as a server-side timeout)
      },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(line("ERROR", { kind: "Status", status: "Failure", reason: "Expired", message: "too old", code: 410 }));
      },
    ],
  });
  const ac = new AbortController();
  const got: ResumableEvent<KubeObject>[] = [];
  for await (const ev of watchWithResume(client, PODS, "default", { backoff: { initialMs: 1, maxMs: 5 } }, ac.signal)) {
    got.push(ev);
    if (got.length === 5) ac.abort();
  }
  const summary = got.map((e) =>
    e.type === "RELIST"
      ? `RELIST@${e.resourceVersion}:${e.items.map((i) => i.metadata.name).join(",")}`
      : `${e.type}:${e.object.metadata.resourceVersion}`,
  );
  assert.deepEqual(summary, ["RELIST@10:a", "ADDED:11", "MODIFIED:12", "BOOKMARK:15", "RELIST@20:b,c"]);
  const rvs = watchRequests().map((r) => r.url.searchParams.get("resourceVersion"));
  assert.deepEqual(rvs.slice(0, 3), ["10", "12", "15"]);
  for (const r of watchRequests()) assert.equal(r.url.searchParams.get("allowWatchBookmarks"), "true");
  assert.deepEqual(server.errors, []);
});

test("starting from a given RV watches without listing; reconnect backoff waits on the clock", async () => {
  const clock = new FakeClock();
  script({
    lists: [],
    watches: [
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(line("ADDED", pod("x", "31")));
        setImmediate(() => res.socket?.destroy());
      },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.write(line("DELETED", pod("x", "32")));
      },
    ],
  });
  const ac = new AbortController();
  const got: string[] = [];
  const done = (async () => {
    for await (const ev of watchWithResume(client, PODS, "default", { resourceVersion: "30", clock }, ac.signal)) {
      got.push(`${ev.type}`);
      if (got.length === 2) ac.abort();
    }
  })();
  // The drop makes the watcher sleep 800 ms on the fake clock; nothing reconnects until we step it.
  await clock.waitForTimers(1);
  assert.equal(clock.nextAt()! - clock.now(), 800);
  assert.equal(watchRequests().length, 1);
  clock.step(800);
  await done;
  assert.deepEqual(got, ["ADDED", "DELETED"]);
  assert.deepEqual(
    watchRequests().map((r) => r.url.searchParams.get("resourceVersion")),
    ["30", "31"],
  );
  assert.equal(server.requests.filter((r) => r.url.searchParams.get("watch") !== "true").length, 0);
});

test("a failing list is retried with backoff", async () => {
  script({
    lists: [
      (_req, res) => sendJson(res, 500, { kind: "Status", reason: "InternalError", message: "etcd down", code: 500 }),
      (_req, res) => sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "7" }, items: [] }),
    ],
    watches: [],
  });
  const ac = new AbortController();
  for await (const ev of watchWithResume(client, PODS, undefined, { backoff: { initialMs: 1 } }, ac.signal)) {
    assert.equal(ev.type, "RELIST");
    ac.abort();
  }
  assert.equal(server.requests.length, 2);
});

test("closing the client ends a resuming watch instead of retrying forever", async () => {
  const own = new ApiClient({ server: server.url });
  script({
    lists: [(_req, res) => sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "3" }, items: [] })],
    watches: [],
  });
  const got: string[] = [];
  const done = (async () => {
    for await (const ev of watchWithResume(own, PODS, "default", { backoff: { initialMs: 1 } })) got.push(ev.type);
  })();
  await waitFor(() => watchRequests().length > 0, { intervalMs: 5, message: "the watch request" });
  await own.close();
  await done;
  assert.deepEqual(got, ["RELIST"]);
});
