// buildServer with app.inject and a recording fake store: how the HTTP layer maps requests onto
// Store calls (subresources, eviction, binding, apply checks) and turns failures into Status
// answers. Storage semantics are covered by test/integration/http*.test.ts against etcd.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { parseTokenFile } from "./auth/tokens.js";
import type { RegistryView, StoreView } from "./http/types.js";
import { strategyFor } from "./registry/strategies.js";
import { buildServer } from "./server.js";

interface Call {
  method: string;
  resource: string;
  args: unknown[];
}

function fakeRegistry(calls: Call[], fail?: Error): RegistryView {
  const obj = (r: ResourceInfo, name: string, ns?: string): KubeObject => ({
    apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
    kind: r.kind,
    metadata: { name, ...(ns ? { namespace: ns } : {}), resourceVersion: "7", uid: "u-1" },
  });
  return {
    healthy: async () => true,
    store(r: ResourceInfo): StoreView {
      const record = (method: string, args: unknown[]) => {
        calls.push({ method, resource: r.resource, args });
        if (fail) throw fail;
      };
      return {
        resource: r,
        strategy: strategyFor(r),
        async create(ns, o, ctx) {
          record("create", [ns, o, ctx]);
          return o;
        },
        async get(ns, name) {
          record("get", [ns, name]);
          return obj(r, name, ns);
        },
        async list(ns, opts) {
          record("list", [ns, opts]);
          return { apiVersion: "v1", kind: `${r.kind}List`, metadata: { resourceVersion: "7" }, items: [] };
        },
        async update(ns, name, o, ctx) {
          record("update", [ns, name, o, ctx]);
          return { object: o, created: false };
        },
        async patch(ns, name, kind, p, ctx) {
          record("patch", [ns, name, kind, p, ctx]);
          return { object: obj(r, name, ns), created: false };
        },
        async delete(ns, name, opts, ctx) {
          record("delete", [ns, name, opts, ctx]);
          return { object: obj(r, name, ns), deleted: true };
        },
        async deleteCollection(ns, list, opts, ctx) {
          record("deleteCollection", [ns, list, opts, ctx]);
          return { apiVersion: "v1", kind: `${r.kind}List`, metadata: {}, items: [] };
        },
        watch() {
          record("watch", []);
          return (async function* () {})();
        },
        async getScale(ns, name) {
          record("getScale", [ns, name]);
          return obj(r, name, ns);
        },
        async updateScale(ns, name, s, ctx) {
          record("updateScale", [ns, name, s, ctx]);
          return s;
        },
        async patchScale(ns, name, kind, p, ctx) {
          record("patchScale", [ns, name, kind, p, ctx]);
          return obj(r, name, ns);
        },
        async admitSubresourceCreate(ns, name, sub, kind, o, ctx) {
          record("admitSubresourceCreate", [ns, name, sub, kind, o, ctx]);
        },
        async bind(ns, name, b, ctx) {
          record("bind", [ns, name, b, ctx]);
          return {
            kind: "Status",
            apiVersion: "v1",
            metadata: {},
            status: "Success",
            code: 201,
          } as unknown as KubeObject;
        },
      };
    },
  };
}

function server(calls: Call[], fail?: Error) {
  return buildServer({
    registry: fakeRegistry(calls, fail),
    log: silentLogger,
    auth: parseTokenFile("tok,admin,admin\n").requestAuthenticator(),
  }).app;
}

const auth = { authorization: "Bearer tok" };
const json = { ...auth, "content-type": "application/json" };

describe("buildServer", () => {
  test("eviction with no budget deletes the pod with the eviction's DeleteOptions", async () => {
    const calls: Call[] = [];
    const app = server(calls);
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/ns1/pods/p1/eviction",
      headers: json,
      payload: {
        apiVersion: "policy/v1",
        kind: "Eviction",
        metadata: { name: "p1" },
        deleteOptions: { gracePeriodSeconds: 5 },
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().status, "Success");
    // Admission sees the Eviction first; then the pod is read, the budgets of its namespace
    // listed (none), the pod marked DisruptionTarget through its status, then deleted.
    assert.deepEqual(
      calls.map((c) => `${c.method} ${c.resource}`),
      [
        "admitSubresourceCreate pods",
        "get pods",
        "list poddisruptionbudgets",
        "get pods",
        "update pods",
        "delete pods",
      ],
    );
    assert.deepEqual(calls[0]?.args.slice(0, 4), [
      "ns1",
      "p1",
      "eviction",
      { group: "policy", version: "v1", kind: "Eviction" },
    ]);
    assert.equal((calls[4]?.args[3] as { subresource?: string } | undefined)?.subresource, "status");
    assert.deepEqual(calls[5]?.args.slice(0, 3), ["ns1", "p1", { gracePeriodSeconds: 5 }]);
    await app.close();
  });

  test("binding calls Store.bind with the URL's name", async () => {
    const calls: Call[] = [];
    const app = server(calls);
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/ns1/pods/p1/binding",
      headers: json,
      payload: { apiVersion: "v1", kind: "Binding", metadata: { name: "p1" }, target: { kind: "Node", name: "n1" } },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(calls[0]?.method, "bind");
    assert.deepEqual(calls[0]?.args.slice(0, 2), ["ns1", "p1"]);
    await app.close();
  });

  test("status and finalize subresources reach update with their name", async () => {
    const calls: Call[] = [];
    const app = server(calls);
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "x" }, spec: { finalizers: [] } };
    assert.equal(
      (await app.inject({ method: "PUT", url: "/api/v1/namespaces/x/finalize", headers: json, payload: ns }))
        .statusCode,
      200,
    );
    assert.equal(
      (await app.inject({ method: "PUT", url: "/api/v1/namespaces/x/status", headers: json, payload: ns })).statusCode,
      200,
    );
    assert.equal((calls[0]?.args[3] as { subresource?: string } | undefined)?.subresource, "finalize");
    assert.equal((calls[1]?.args[3] as { subresource?: string } | undefined)?.subresource, "status");
    await app.close();
  });

  test("server-side apply needs a fieldManager and the path's kind", async () => {
    const calls: Call[] = [];
    const app = server(calls);
    const headers = { ...auth, "content-type": "application/apply-patch+yaml" };
    const url = "/api/v1/namespaces/ns1/configmaps/c";
    const body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";
    assert.equal((await app.inject({ method: "PATCH", url, headers, payload: body })).statusCode, 400);
    const wrongKind = body.replace("ConfigMap", "Secret");
    assert.equal(
      (await app.inject({ method: "PATCH", url: `${url}?fieldManager=m`, headers, payload: wrongKind })).statusCode,
      400,
    );
    const ok = await app.inject({ method: "PATCH", url: `${url}?fieldManager=m&force=true`, headers, payload: body });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.args[2], "apply");
    const { sink: _sink, userInfo, ...ctx } = (calls[0]?.args[4] ?? {}) as Record<string, unknown>;
    assert.deepEqual(ctx, { fieldValidation: "Warn", user: "admin", fieldManager: "m", force: true });
    assert.equal((userInfo as { name?: string } | undefined)?.name, "admin");
    await app.close();
  });

  test("pods/log without a kubelet proxy answers 503; POST on an object 405", async () => {
    const app = server([]);
    const log = await app.inject({ method: "GET", url: "/api/v1/namespaces/ns1/pods/p1/log", headers: auth });
    assert.equal(log.statusCode, 503);
    assert.equal(log.json().reason, "ServiceUnavailable");
    const post = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/ns1/configmaps/c",
      headers: json,
      payload: {},
    });
    assert.equal(post.statusCode, 405);
    assert.equal(post.json().kind, "Status");
    await app.close();
  });

  test("store errors: StatusErrors keep their code, anything else is a 500 InternalError Status", async () => {
    const nf = server([], new StatusError(404, "NotFound", 'configmaps "c" not found'));
    const a = await nf.inject({ method: "GET", url: "/api/v1/namespaces/ns1/configmaps/c", headers: auth });
    assert.equal(a.statusCode, 404);
    assert.equal(a.headers["content-type"], "application/json");
    assert.equal(a.json().message, 'configmaps "c" not found');
    await nf.close();
    const boom = server([], new Error("disk on fire"));
    const b = await boom.inject({ method: "GET", url: "/api/v1/namespaces/ns1/configmaps/c", headers: auth });
    assert.equal(b.statusCode, 500);
    assert.equal(b.json().reason, "InternalError");
    await boom.close();
  });

  test("list options and delete options reach the store", async () => {
    const calls: Call[] = [];
    const app = server(calls);
    await app.inject({
      method: "GET",
      url: "/api/v1/namespaces/ns1/pods?labelSelector=app+in+%28a%2Cb%29&fieldSelector=spec.nodeName%3Dn1&limit=500",
      headers: auth,
    });
    assert.deepEqual(calls[0]?.args, [
      "ns1",
      { labelSelector: "app in (a,b)", fieldSelector: "spec.nodeName=n1", limit: 500 },
    ]);
    await app.inject({
      method: "DELETE",
      url: "/api/v1/namespaces/ns1/pods/p?gracePeriodSeconds=0",
      headers: json,
      payload: { propagationPolicy: "Foreground" },
    });
    assert.deepEqual(calls[1]?.args.slice(0, 3), [
      "ns1",
      "p",
      { propagationPolicy: "Foreground", gracePeriodSeconds: 0 },
    ]);
    await app.close();
  });

  test("requests over --max-requests-inflight answer 429 with Retry-After; watches do not count", async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const base = fakeRegistry([]);
    const registry: RegistryView = {
      healthy: base.healthy,
      store(r) {
        const st = base.store(r);
        return {
          ...st,
          resource: st.resource,
          strategy: st.strategy,
          get: async (ns, name) => {
            await gate;
            return st.get(ns, name);
          },
        };
      },
    };
    const app = buildServer({
      registry,
      log: silentLogger,
      auth: parseTokenFile("tok,admin,admin\n").requestAuthenticator(),
      maxRequestsInflight: 2,
    }).app;
    await app.ready();
    const url = "/api/v1/namespaces/ns1/configmaps/c";
    const first = [
      app.inject({ method: "GET", url, headers: auth }),
      app.inject({ method: "GET", url, headers: auth }),
    ];
    // Let both reach the store before the third arrives.
    await new Promise((resolve) => setImmediate(resolve));
    const third = await app.inject({ method: "GET", url, headers: auth });
    assert.equal(third.statusCode, 429);
    assert.equal(third.headers["retry-after"], "1");
    assert.equal(third.json().reason, "TooManyRequests");
    const health = await app.inject({ method: "GET", url: "/healthz" });
    assert.equal(health.statusCode, 200, "health checks are exempt");
    release();
    for (const r of await Promise.all(first)) assert.equal(r.statusCode, 200);
    const after = await app.inject({ method: "GET", url, headers: auth });
    assert.equal(after.statusCode, 200, "slots are released when responses finish");
    await app.close();
  });

  test("/metrics: request counts and durations under upstream's names, in-flight requests by kind", async () => {
    const app = buildServer({
      registry: fakeRegistry([]),
      log: silentLogger,
      auth: parseTokenFile("tok,admin,admin\n").requestAuthenticator(),
      maxRequestsInflight: 10,
      maxMutatingRequestsInflight: 10,
    }).app;
    await app.inject({ method: "GET", url: "/api/v1/namespaces/ns1/configmaps", headers: auth });
    const m = await app.inject({ method: "GET", url: "/metrics", headers: auth });
    assert.equal(m.statusCode, 200);
    assert.match(m.headers["content-type"] as string, /^text\/plain; version=0\.0\.4/);
    assert.match(m.body, /^apiserver_request_total\{verb="LIST",group="",resource="configmaps",code="200"\} 1$/m);
    assert.match(m.body, /^apiserver_request_duration_seconds_count\{verb="LIST",group="",resource="configmaps"\} 1$/m);
    assert.match(m.body, /^apiserver_longrunning_requests\{verb="WATCH"\} 0$/m);
    // The scrape itself is the one read-only request in flight.
    assert.match(m.body, /^apiserver_current_inflight_requests\{request_kind="readOnly"\} 1$/m);
    assert.match(m.body, /^apiserver_current_inflight_requests\{request_kind="mutating"\} 0$/m);
    assert.match(m.body, /^process_resident_memory_bytes \d+$/m);
    await app.close();
  });

  test("/metrics: in-flight requests are counted with both limits off (0)", async () => {
    const limits = { maxRequestsInflight: 0, maxMutatingRequestsInflight: 0 };
    const { app } = buildServer({ registry: fakeRegistry([]), log: silentLogger, ...limits });
    const m = await app.inject({ method: "GET", url: "/metrics" });
    assert.match(m.body, /^apiserver_current_inflight_requests\{request_kind="readOnly"\} 1$/m);
    await app.close();
  });
});
