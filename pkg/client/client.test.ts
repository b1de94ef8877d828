import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isConflict, isGone, isNotFound, StatusError } from "../api/errors.js";
import type { KubeObject } from "../api/meta.js";
import { DEPLOYMENTS, NODES, PODS } from "../api/resources.js";
import { TABLE_ACCEPT } from "../api/table.js";
import { type CertKey, newCA, newCert } from "../pki/certs.js";
import { ApiClient } from "./client.js";
import { parseKubeconfig, renderKubeconfig } from "./kubeconfig.js";
import { sendJson, startTestServer, type TestServer } from "./testserver.js";

function pod(name: string, rv: string): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", resourceVersion: rv } };
}

describe("ApiClient over HTTP", () => {
  let server: TestServer;
  let client: ApiClient;
  before(async () => {
    server = await startTestServer();
    client = new ApiClient({ server: server.url, token: "s3cret" }, { userAgent: "test/1" });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test("get sends bearer token, user agent and the upstream path", async () => {
    server.handle((req, res) => sendJson(res, 200, pod(req.url.pathname.split("/").pop()!, "5")));
    const p = await client.get(PODS, "default", "web");
    assert.equal(p.metadata.name, "web");
    const req = server.requests.at(-1)!;
    assert.equal(req.url.pathname, "/api/v1/namespaces/default/pods/web");
    assert.equal(req.headers.authorization, "Bearer s3cret");
    assert.equal(req.headers["user-agent"], "test/1");
    assert.equal(req.headers.accept, "application/json");
  });

  test("non-2xx with a Status body becomes that StatusError", async () => {
    server.handle((_req, res) =>
      sendJson(res, 404, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        reason: "NotFound",
        message: 'pods "nope" not found',
        details: { name: "nope", kind: "pods" },
        code: 404,
      }),
    );
    await assert.rejects(client.get(PODS, "default", "nope"), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.ok(isNotFound(err));
      assert.equal(err.message, 'pods "nope" not found');
      assert.equal(err.details?.name, "nope");
      return true;
    });
  });

  test("non-2xx without a Status body is synthesized from the HTTP code", async () => {
    server.handle((_req, res) => {
      res.statusCode = 409;
      res.end("boom");
    });
    await assert.rejects(client.get(PODS, "default", "x"), (err: unknown) => {
      assert.ok(isConflict(err));
      assert.equal((err as StatusError).code, 409);
      assert.match((err as Error).message, /HTTP 409: boom/);
      return true;
    });
    server.handle((_req, res) => {
      res.statusCode = 410;
      res.end();
    });
    await assert.rejects(client.list(PODS, "default"), (err: unknown) => isGone(err));
  });

  test("list encodes ListOptions on the query string", async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "9" }, items: [] }),
    );
    const list = await client.list(PODS, undefined, {
      labelSelector: "app=web,tier in (a,b)",
      fieldSelector: "spec.nodeName=n1",
      limit: 500,
      allowWatchBookmarks: true,
    });
    assert.equal(list.metadata.resourceVersion, "9");
    const req = server.requests.at(-1)!;
    assert.equal(req.url.pathname, "/api/v1/pods");
    assert.equal(req.url.searchParams.get("labelSelector"), "app=web,tier in (a,b)");
    assert.equal(req.url.searchParams.get("fieldSelector"), "spec.nodeName=n1");
    assert.equal(req.url.searchParams.get("limit"), "500");
    assert.equal(req.url.searchParams.get("allowWatchBookmarks"), "true");
  });

  test("request encodes array query values as repeated keys", async () => {
    server.handle((_req, res) => sendJson(res, 200, {}));
    const res = await client.request("GET", "/x", { query: { a: ["1", "2"], b: "x y&z", c: undefined } });
    res.body.resume();
    const req = server.requests.at(-1)!;
    assert.deepEqual(req.url.searchParams.getAll("a"), ["1", "2"]);
    assert.equal(req.url.searchParams.get("b"), "x y&z");
    assert.equal(req.url.searchParams.has("c"), false);
  });

  test("create POSTs JSON with fieldManager, dryRun and subresource name", async () => {
    server.handle((req, res) => sendJson(res, 201, JSON.parse(req.body)));
    const created = await client.create(
      DEPLOYMENTS,
      "prod",
      { metadata: { name: "d" } },
      { fieldManager: "me", dryRun: true },
    );
    assert.equal(created.metadata.name, "d");
    let req = server.requests.at(-1)!;
    assert.equal(req.method, "POST");
    assert.equal(req.url.pathname, "/apis/apps/v1/namespaces/prod/deployments");
    assert.equal(req.url.searchParams.get("fieldManager"), "me");
    assert.equal(req.url.searchParams.get("dryRun"), "All");
    assert.equal(req.headers["content-type"], "application/json");

    await client.create(
      PODS,
      "default",
      { target: { kind: "Node", name: "n1" } },
      { name: "web", subresource: "binding" },
    );
    req = server.requests.at(-1)!;
    assert.equal(req.url.pathname, "/api/v1/namespaces/default/pods/web/binding");
  });

  test("update PUTs to the object's path; cluster-scoped ignores namespace", async () => {
    server.handle((req, res) => sendJson(res, 200, JSON.parse(req.body)));
    await client.update(NODES, undefined, { metadata: { name: "n1" } }, { subresource: "status" });
    const req = server.requests.at(-1)!;
    assert.equal(req.method, "PUT");
    assert.equal(req.url.pathname, "/api/v1/nodes/n1/status");
  });

  test("patch sends the content type of each patch flavour", async () => {
    server.handle((_req, res) => sendJson(res, 200, pod("web", "7")));
    const cases = [
      ["merge", "application/merge-patch+json"],
      ["json", "application/json-patch+json"],
      ["strategic", "application/strategic-merge-patch+json"],
      ["apply", "application/apply-patch+yaml"],
    ] as const;
    for (const [type, contentType] of cases) {
      await client.patch(PODS, "default", "web", { metadata: { labels: { a: "b" } } }, type, { fieldManager: "fm" });
      const req = server.requests.at(-1)!;
      assert.equal(req.method, "PATCH");
      assert.equal(req.headers["content-type"], contentType);
      assert.deepEqual(JSON.parse(req.body), { metadata: { labels: { a: "b" } } });
      assert.equal(req.url.searchParams.get("fieldManager"), "fm");
    }
    await client.patch(PODS, "default", "web", {}, "apply", { force: true });
    const req = server.requests.at(-1)!;
    assert.equal(req.url.searchParams.get("force"), "true");
    assert.equal(req.url.searchParams.get("fieldManager"), "kubeling");
  });

  test("delete sends DeleteOptions; deleteCollection a selector", async () => {
    server.handle((_req, res) => sendJson(res, 200, { kind: "Status", status: "Success", metadata: {}, code: 200 }));
    await client.delete(PODS, "default", "web", { propagationPolicy: "Foreground", gracePeriodSeconds: 0 });
    let req = server.requests.at(-1)!;
    assert.equal(req.method, "DELETE");
    assert.deepEqual(JSON.parse(req.body), {
      kind: "DeleteOptions",
      apiVersion: "v1",
      propagationPolicy: "Foreground",
      gracePeriodSeconds: 0,
    });
    await client.deleteCollection(PODS, "default", { labelSelector: "app=web" });
    req = server.requests.at(-1)!;
    assert.equal(req.url.pathname, "/api/v1/namespaces/default/pods");
    assert.equal(req.url.searchParams.get("labelSelector"), "app=web");
  });

  test("table asks for a Table", async () => {
    server.handle((_req, res) =>
      sendJson(res, 200, {
        kind: "Table",
        apiVersion: "meta.k8s.io/v1",
        metadata: {},
        columnDefinitions: [],
        rows: [],
      }),
    );
    const t = await client.table(PODS, "default", { name: "web" });
    assert.equal(t.kind, "Table");
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.accept, TABLE_ACCEPT);
    assert.equal(req.url.pathname, "/api/v1/namespaces/default/pods/web");
  });

  test("watch splits events across arbitrary chunk boundaries", async () => {
    const events = [
      { type: "ADDED", object: pod("a", "10") },
      { type: "MODIFIED", object: pod("a", "11") },
      { type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "12" } } },
      { type: "DELETED", object: pod("a", "13") },
    ];
    const text = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
    server.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // Dribble the stream out in 7-byte pieces, so lines straddle chunks.
      for (let i = 0; i < text.length; i += 7) {
        res.write(text.slice(i, i + 7));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    const got = [];
    for await (const ev of client.watch(PODS, "default", { resourceVersion: "9" })) got.push(ev);
    assert.deepEqual(got, events);
    const req = server.requests.at(-1)!;
    assert.equal(req.url.searchParams.get("watch"), "true");
    assert.equal(req.url.searchParams.get("resourceVersion"), "9");
  });

  test("watch throws an ERROR event as StatusError", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: pod("a", "10") })}\n`);
      res.end(
        `${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Expired", message: "too old resource version: 1 (5)", code: 410 } })}\n`,
      );
    });
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const ev of client.watch(PODS, "default", { resourceVersion: "1" })) got.push(ev.type);
      })(),
      (err: unknown) => isGone(err) && (err as Error).message.includes("too old"),
    );
    assert.deepEqual(got, ["ADDED"]);
  });

  test("watch ends quietly when aborted", async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: pod("a", "10") })}\n`);
      // never ends
    });
    const ac = new AbortController();
    const got: string[] = [];
    for await (const ev of client.watch(PODS, "default", {}, ac.signal)) {
      got.push(ev.object.metadata.name!);
      ac.abort();
    }
    assert.deepEqual(got, ["a"]);
  });

  test("watch({accept, yieldErrors}): a table watch, ERROR delivered as an event", async () => {
    const table = { kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: {}, columnDefinitions: [], rows: [] };
    const status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "Expired", code: 410 };
    server.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write(`${JSON.stringify({ type: "ADDED", object: table })}\n`);
      res.end(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
    });
    const got: unknown[] = [];
    const events = client.watch(PODS, "default", { resourceVersion: "7" }, { accept: TABLE_ACCEPT, yieldErrors: true });
    for await (const ev of events) got.push([ev.type, ev.object.kind]);
    assert.deepEqual(got, [
      ["ADDED", "Table"],
      ["ERROR", "Status"],
    ]);
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.accept, TABLE_ACCEPT);
    assert.equal(req.url.searchParams.get("watch"), "true");
    assert.equal(req.url.searchParams.get("resourceVersion"), "7");
  });

  test("stream returns the body as it comes; an error answer is its StatusError", async () => {
    server.handle((req, res) => {
      if (req.url.searchParams.get("container") === "nope") {
        sendJson(res, 400, { kind: "Status", reason: "BadRequest", message: "container nope is not valid", code: 400 });
        return;
      }
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("line 1\n");
      res.end("line 2\n");
    });
    const body = await client.stream("/api/v1/namespaces/default/pods/web/log", { query: { container: "c" } });
    let text = "";
    for await (const chunk of body) text += String(chunk);
    assert.equal(text, "line 1\nline 2\n");
    assert.equal(server.requests.at(-1)!.url.search, "?container=c");
    await assert.rejects(
      client.stream("/api/v1/namespaces/default/pods/web/log", { query: { container: "nope" } }),
      (err: unknown) => err instanceof StatusError && err.code === 400 && err.message === "container nope is not valid",
    );
  });

  test("discovery reads /api, /apis and each preferred group version; serverVersion /version", async () => {
    const docs: Record<string, unknown> = {
      "/api": { kind: "APIVersions", versions: ["v1"] },
      "/api/v1": { groupVersion: "v1", resources: [{ name: "pods", namespaced: true, kind: "Pod" }] },
      "/apis": {
        groups: [
          {
            name: "apps",
            preferredVersion: { groupVersion: "apps/v1", version: "v1" },
            versions: [
              { groupVersion: "apps/v1", version: "v1" },
              { groupVersion: "apps/v1beta1", version: "v1beta1" },
            ],
          },
        ],
      },
      "/apis/apps/v1": {
        groupVersion: "apps/v1",
        resources: [{ name: "deployments", namespaced: true, kind: "Deployment" }],
      },
      "/version": { major: "1", minor: "31", gitVersion: "v1.31.0" },
    };
    server.handle((req, res) => {
      const doc = docs[req.url.pathname];
      if (doc) sendJson(res, 200, doc);
      else sendJson(res, 404, { kind: "Status", reason: "NotFound", code: 404 });
    });
    const found = await client.discovery();
    assert.deepEqual(
      found.map((gv) => [gv.group, gv.version, gv.resources.map((r) => r.name)]),
      [
        ["", "v1", ["pods"]],
        ["apps", "v1", ["deployments"]],
      ],
    );
    assert.equal((await client.serverVersion()).gitVersion, "v1.31.0");
  });

  test("watch with a non-2xx answer throws StatusError", async () => {
    server.handle((_req, res) => sendJson(res, 403, { kind: "Status", reason: "Forbidden", message: "no", code: 403 }));
    await assert.rejects(
      (async () => {
        for await (const _ of client.watch(PODS, "default", {})) {
          /* nothing */
        }
      })(),
      (err: unknown) => err instanceof StatusError && err.code === 403,
    );
  });
});

test("connection failures name the server", async () => {
  const server = await startTestServer();
  const url = server.url;
  await server.close();
  const client = new ApiClient({ server: url });
  try {
    await assert.rejects(client.get(PODS, "default", "x"), (err: unknown) => {
      assert.ok(!(err instanceof StatusError));
      assert.match((err as Error).message, new RegExp(`cannot reach the API server at ${url}: .*ECONNREFUSED`));
      return true;
    });
  } finally {
    await client.close();
  }
});

describe("ApiClient over TLS", () => {
  let server: TestServer;
  /** Requires a client certificate signed by the CA. */
  let mtls: TestServer;
  let caPem: string;
  let client: CertKey;
  before(async () => {
    const ca = await newCA("test-ca");
    const leaf = await newCert(ca, {
      commonName: "apiserver",
      usages: ["serverAuth"],
      altNames: ["127.0.0.1", "localhost"],
    });
    client = await newCert(ca, { commonName: "alice", organizations: ["dev"], usages: ["clientAuth"] });
    caPem = ca.cert;
    server = await startTestServer({ tls: { key: leaf.key, cert: leaf.cert } });
    mtls = await startTestServer({ tls: { key: leaf.key, cert: leaf.cert, ca: ca.cert } });
    mtls.handle((_req, res) => sendJson(res, 200, pod("mtls", "1")));
    server.handle((_req, res) => sendJson(res, 200, pod("tls", "1")));
  });
  after(async () => {
    await server.close();
    await mtls.close();
  });

  test("presents the kubeconfig's client certificate", async () => {
    const config = parseKubeconfig(renderKubeconfig({ server: mtls.url, caPem, clientCert: client, name: "alice" }), {
      source: "test",
    });
    const c = new ApiClient(config);
    try {
      assert.equal((await c.get(PODS, "default", "mtls")).metadata.name, "mtls");
      assert.equal(mtls.requests.at(-1)?.peerCommonName, "alice");
      assert.equal(mtls.requests.at(-1)?.headers.authorization, undefined);
    } finally {
      await c.close();
    }
    const anonymous = new ApiClient({ server: mtls.url, caPem });
    try {
      await assert.rejects(anonymous.get(PODS, "default", "mtls"), /cannot reach the API server/);
    } finally {
      await anonymous.close();
    }
  });

  test("trusts the configured CA", async () => {
    const client = new ApiClient({ server: server.url, caPem });
    try {
      assert.equal((await client.get(PODS, "default", "tls")).metadata.name, "tls");
    } finally {
      await client.close();
    }
  });

  test("rejects an unknown CA, unless insecureSkipTLSVerify", async () => {
    const strict = new ApiClient({ server: server.url });
    try {
      await assert.rejects(strict.get(PODS, "default", "tls"), /cannot reach the API server at https:/);
    } finally {
      await strict.close();
    }
    const insecure = new ApiClient({ server: server.url, insecureSkipTLSVerify: true });
    try {
      assert.equal((await insecure.get(PODS, "default", "tls")).metadata.name, "tls");
    } finally {
      await insecure.close();
    }
  });
});
