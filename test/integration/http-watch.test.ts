// Watch over chunked HTTP and over WebSocket against a real kubeling-apiserver and etcd:
// headers flushed before any event, events as newline-delimited JSON, Table events, 410 as an
// ERROR event, disconnects ending the server-side watch.

import assert from "node:assert/strict";
import type { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { Agent, request } from "undici";
import WebSocket from "ws";
import { TABLE_ACCEPT } from "#pkg/api/table.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

// biome-ignore lint/suspicious/noExplicitAny: tests poke into arbitrary JSON events
type Json = any;

let srv: TestApiServer;
let agent: Agent;
const NS = "default";
const CM = `/api/v1/namespaces/${NS}/configmaps`;

before(async () => {
  srv = await startApiServer();
  agent = new Agent({ connect: { ca: srv.caPem } });
});

after(async () => {
  await agent?.close();
  await closeRawAgents();
  await srv?.stop();
});

/** Reads newline-delimited JSON events from a stream. */
function lines(body: Readable): {
  next(timeoutMs?: number): Promise<{ type: string; object: Json }>;
  ended: Promise<void>;
} {
  const queue: string[] = [];
  const waiters: Array<(s: string) => void> = [];
  let buf = "";
  body.setEncoding("utf8");
  body.on("data", (chunk: string) => {
    buf += chunk;
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else queue.push(line);
      nl = buf.indexOf("\n");
    }
  });
  const ended = new Promise<void>((resolve) => {
    body.on("end", () => resolve());
    body.on("close", () => resolve());
    body.on("error", () => resolve());
  });
  return {
    ended,
    next(timeoutMs = 10_000) {
      const q = queue.shift();
      if (q !== undefined) return Promise.resolve(JSON.parse(q));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("no watch event within the deadline")), timeoutMs);
        waiters.push((s) => {
          clearTimeout(t);
          resolve(JSON.parse(s));
        });
      });
    },
  };
}

async function listRV(): Promise<string> {
  const l = await raw(srv, "GET", CM);
  assert.equal(l.status, 200);
  return l.json.metadata.resourceVersion;
}

async function createCM(name: string): Promise<void> {
  const a = await raw(srv, "POST", CM, {
    body: JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { k: "v" } }),
    headers: { "content-type": "application/json" },
  });
  assert.equal(a.status, 201, a.text);
}

async function openWatches(): Promise<number> {
  const m = await raw(srv, "GET", "/metrics");
  const match = /apiserver_longrunning_requests\{verb="WATCH"\} (\d+)/.exec(m.text);
  assert.ok(match, "metrics expose the open watch count");
  return Number(match[1]);
}

describe("chunked HTTP watch", () => {
  test("headers arrive before any event; ADDED and DELETED follow as JSON lines", async () => {
    const rv = await listRV();
    const ac = new AbortController();
    // request() resolves on the response headers: with no event pending, this only returns
    // because the server flushed them.
    const res = await request(`${srv.url}${CM}?watch=true&resourceVersion=${rv}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${srv.token}`, accept: "application/json" },
      signal: ac.signal,
      bodyTimeout: 0,
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^application\/json/);
    const events = lines(res.body);
    await createCM("watched");
    const added = await events.next();
    assert.equal(added.type, "ADDED");
    assert.equal(added.object.metadata.name, "watched");
    assert.equal(added.object.kind, "ConfigMap");
    assert.equal((await raw(srv, "DELETE", `${CM}/watched`)).status, 200);
    const deleted = await events.next();
    assert.equal(deleted.type, "DELETED");
    assert.equal(deleted.object.metadata.name, "watched");
    ac.abort();
    await events.ended;
    // The client went away: the server-side watch ends too.
    await waitFor(async () => (await openWatches()) === 0, { message: "server-side watches to end" });
  });

  test("with the Table Accept each event object is a one-row Table", async () => {
    const rv = await listRV();
    const ac = new AbortController();
    const res = await request(`${srv.url}${CM}?watch=true&resourceVersion=${rv}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${srv.token}`, accept: TABLE_ACCEPT },
      signal: ac.signal,
      bodyTimeout: 0,
    });
    assert.equal(res.statusCode, 200);
    const events = lines(res.body);
    await createCM("tabled");
    const ev = await events.next();
    assert.equal(ev.type, "ADDED");
    assert.equal(ev.object.kind, "Table");
    assert.equal(ev.object.rows.length, 1);
    assert.equal(ev.object.rows[0].cells[0], "tabled");
    assert.ok(ev.object.metadata.resourceVersion);
    ac.abort();
    await events.ended;
    assert.equal((await raw(srv, "DELETE", `${CM}/tabled`)).status, 200);
  });

  test("a watch on a named object sees only that object", async () => {
    const rv = await listRV();
    const ac = new AbortController();
    const res = await request(`${srv.url}${CM}/named?watch=true&resourceVersion=${rv}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${srv.token}` },
      signal: ac.signal,
      bodyTimeout: 0,
    });
    assert.equal(res.statusCode, 200);
    const events = lines(res.body);
    await createCM("not-named");
    await createCM("named");
    const ev = await events.next();
    assert.equal(ev.type, "ADDED");
    assert.equal(ev.object.metadata.name, "named");
    ac.abort();
    await events.ended;
    assert.equal((await raw(srv, "DELETE", CM)).status, 200);
  });

  test("timeoutSeconds ends the stream", async () => {
    const res = await request(`${srv.url}${CM}?watch=1&timeoutSeconds=1&resourceVersion=${await listRV()}`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${srv.token}` },
      bodyTimeout: 0,
    });
    assert.equal(res.statusCode, 200);
    const text = await res.body.text();
    assert.equal(text, "");
  });

  test("a resourceVersion older than the watch history answers one ERROR event with a 410 Status, then ends", async () => {
    // A server started after these writes keeps no history from before its start: resuming
    // from resourceVersion 2 is what a client that was away too long does.
    await createCM("old-1");
    await createCM("old-2");
    const late = await startApiServer({ etcd: srv.etcd });
    const lateAgent = new Agent({ connect: { ca: late.caPem } });
    try {
      const res = await request(`${late.url}${CM}?watch=true&resourceVersion=2`, {
        dispatcher: lateAgent,
        headers: { authorization: `Bearer ${late.token}` },
        bodyTimeout: 0,
      });
      assert.equal(res.statusCode, 200);
      const text = await res.body.text();
      const events = text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(events.length, 1, text);
      assert.equal(events[0].type, "ERROR");
      assert.equal(events[0].object.kind, "Status");
      assert.equal(events[0].object.code, 410);
      assert.equal(events[0].object.reason, "Expired");
      assert.match(events[0].object.message, /too old resource version/);
    } finally {
      await lateAgent.close();
      await late.stop();
    }
    assert.equal((await raw(srv, "DELETE", CM)).status, 200);
  });
});

describe("WebSocket watch", () => {
  test("the same URL upgraded: one text message per event", async () => {
    const rv = await listRV();
    const url = `${srv.url.replace(/^https/, "wss")}${CM}?watch=true&resourceVersion=${rv}`;
    const ws = new WebSocket(url, { ca: srv.caPem, headers: { authorization: `Bearer ${srv.token}` } });
    const messages: Array<{ type: string; object: Json }> = [];
    ws.on("message", (data, isBinary) => {
      assert.equal(isBinary, false);
      messages.push(JSON.parse(data.toString()));
    });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await createCM("ws-watched");
    const ev = await waitFor(() => messages.find((m) => m.object?.metadata?.name === "ws-watched"), {
      message: "ADDED over WebSocket",
    });
    assert.equal(ev.type, "ADDED");
    ws.close();
    await waitFor(async () => (await openWatches()) === 0, { message: "server-side watches to end" });
    assert.equal((await raw(srv, "DELETE", `${CM}/ws-watched`)).status, 200);
  });

  test("an upgrade without a token is system:anonymous's, refused with 403", async () => {
    const url = `${srv.url.replace(/^https/, "wss")}${CM}?watch=true`;
    const ws = new WebSocket(url, { ca: srv.caPem });
    const code = await new Promise<number>((resolve, reject) => {
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => reject(new Error("upgrade without a token was accepted")));
      ws.once("error", () => undefined);
    });
    assert.equal(code, 403);
    ws.terminate();
  });
});

describe("shutdown", () => {
  test("SIGTERM ends open watches and exits 0", async () => {
    const s = await startApiServer({ etcd: srv.etcd });
    const a = new Agent({ connect: { ca: s.caPem } });
    try {
      const res = await request(`${s.url}${CM}?watch=true`, {
        dispatcher: a,
        headers: { authorization: `Bearer ${s.token}` },
        bodyTimeout: 0,
      });
      assert.equal(res.statusCode, 200);
      const body = res.body.text().catch(() => "");
      process.kill(s.pid, "SIGTERM");
      const exit = await s.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      await body; // the stream ended rather than hanging
    } finally {
      await a.close();
      await s.stop();
    }
  });
});
