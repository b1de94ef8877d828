// The API server's HTTP layer against a real etcd, through a real kubeling-apiserver process:
// every bad input answers its Status (right code, JSON, never a 500) and stores nothing; the
// good paths kubectl relies on (YAML bodies, PUT /scale without Content-Type, DELETE with a
// body, dryRun) work.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";

let srv: TestApiServer;
const NS = "default";
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const DEPLOY = `/apis/apps/v1/namespaces/${NS}/deployments`;
const JSON_CT = { "content-type": "application/json" };

function assertStatus(
  a: { status: number; headers: Record<string, unknown>; json: unknown },
  code: number,
  reason?: string,
) {
  assert.equal(a.status, code, JSON.stringify(a.json));
  assert.match(String(a.headers["content-type"]), /^application\/json/);
  const s = a.json as { kind: string; apiVersion: string; status: string; code: number; reason: string };
  assert.equal(s.kind, "Status");
  assert.equal(s.apiVersion, "v1");
  assert.equal(s.status, "Failure");
  assert.equal(s.code, code);
  if (reason) assert.equal(s.reason, reason);
}

async function assertNoConfigMaps(): Promise<void> {
  const list = await raw(srv, "GET", CM);
  assert.equal(list.status, 200);
  assert.deepEqual(
    list.json.items.map((i: { metadata: { name: string } }) => i.metadata.name),
    [],
    "a rejected request must store nothing",
  );
}

function cm(name: string, extra: Record<string, unknown> = {}) {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { a: "b" }, ...extra };
}

function deployment(name: string, replicas = 1) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "nginx", image: "nginx:1.14.2", ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

before(async () => {
  srv = await startApiServer();
});

after(async () => {
  await closeRawAgents();
  await srv?.stop();
});

describe("authentication", () => {
  test("no token -> system:anonymous, 403 Status (the default authorization mode is Node,RBAC)", async () => {
    const r = await raw(srv, "GET", "/api/v1/namespaces", { token: null });
    assertStatus(r, 403, "Forbidden");
    assert.equal(
      r.json.message,
      'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope',
    );
  });

  test("bad token -> 401 Status", async () => {
    assertStatus(await raw(srv, "GET", "/api/v1/namespaces", { token: "not-a-token" }), 401, "Unauthorized");
  });

  test("health and version are open, metrics is not", async () => {
    for (const p of ["/healthz", "/livez", "/readyz"]) {
      const a = await raw(srv, "GET", p, { token: null });
      assert.equal(a.status, 200, p);
      assert.equal(a.text, "ok");
    }
    const v = await raw(srv, "GET", "/version?timeout=5s", { token: null });
    assert.equal(v.status, 200);
    assert.equal(v.json.major, "1");
    assert.equal(v.json.minor, "33");
    assert.match(v.json.gitVersion, /^v1\.33\.0\+kubeling/);
    const anon = await raw(srv, "GET", "/metrics", { token: null });
    assertStatus(anon, 403, "Forbidden");
    assert.equal(anon.json.message, 'forbidden: User "system:anonymous" cannot get path "/metrics"');
    assert.equal((await raw(srv, "GET", CM)).status, 200);
    const m = await raw(srv, "GET", "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.text, /# TYPE apiserver_request_total counter/);
    assert.match(m.text, /apiserver_request_total\{verb="LIST",group="",resource="configmaps",code="200"\} [1-9]/);
    assert.match(
      m.text,
      /apiserver_request_duration_seconds_count\{verb="LIST",group="",resource="configmaps"\} [1-9]/,
    );
  });
});

describe("bad input answers a Status and stores nothing", () => {
  test("malformed JSON -> 400", async () => {
    const a = await raw(srv, "POST", CM, {
      body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"',
      headers: JSON_CT,
    });
    assertStatus(a, 400, "BadRequest");
    await assertNoConfigMaps();
  });

  test("malformed YAML -> 400", async () => {
    const a = await raw(srv, "POST", CM, {
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    bad: [indent\n",
      headers: { "content-type": "application/yaml" },
    });
    assertStatus(a, 400, "BadRequest");
    await assertNoConfigMaps();
  });

  test("a JSON body that is not an object -> 400", async () => {
    assertStatus(await raw(srv, "POST", CM, { body: "[1,2]", headers: JSON_CT }), 400, "BadRequest");
    assertStatus(await raw(srv, "POST", CM, { body: "", headers: JSON_CT }), 400, "BadRequest");
    await assertNoConfigMaps();
  });

  test("wrong apiVersion for the path -> 400", async () => {
    const a = await raw(srv, "POST", CM, {
      body: JSON.stringify(cm("x", { apiVersion: "apps/v1" })),
      headers: JSON_CT,
    });
    assertStatus(a, 400, "BadRequest");
    assert.equal(a.json.message, "the API version in the data (apps/v1) does not match the expected API version (v1)");
    await assertNoConfigMaps();
  });

  test("wrong kind for the path -> 400", async () => {
    const a = await raw(srv, "POST", CM, { body: JSON.stringify(cm("x", { kind: "Secret" })), headers: JSON_CT });
    assertStatus(a, 400, "BadRequest");
    assert.match(a.json.message, /must be of type ConfigMap/);
    await assertNoConfigMaps();
  });

  test("namespace in the body differs from the path -> 400", async () => {
    const body = cm("x");
    (body.metadata as Record<string, string>).namespace = "other";
    const a = await raw(srv, "POST", CM, { body: JSON.stringify(body), headers: JSON_CT });
    assertStatus(a, 400, "BadRequest");
    assert.equal(
      a.json.message,
      "the namespace of the provided object does not match the namespace sent on the request",
    );
    await assertNoConfigMaps();
  });

  test("name that is not DNS-1123 -> 422", async () => {
    const a = await raw(srv, "POST", CM, { body: JSON.stringify(cm("Bad_Name!")), headers: JSON_CT });
    assertStatus(a, 422, "Invalid");
    await assertNoConfigMaps();
  });

  test("body over 3 MiB -> 413", async () => {
    const big = cm("big", { data: { blob: "x".repeat(3 * 1024 * 1024 + 10) } });
    const a = await raw(srv, "POST", CM, { body: JSON.stringify(big), headers: JSON_CT });
    assertStatus(a, 413, "RequestEntityTooLarge");
    await assertNoConfigMaps();
  });

  test("object over 1.5 MiB (body under 3 MiB) -> 4xx", async () => {
    const big = cm("big", { data: { blob: "x".repeat(2 * 1024 * 1024) } });
    const a = await raw(srv, "POST", CM, { body: JSON.stringify(big), headers: JSON_CT });
    assert.ok(a.status >= 400 && a.status < 500, `got ${a.status}`);
    assertStatus(a, a.status);
    await assertNoConfigMaps();
  });

  test("unknown field with fieldValidation=Strict -> 400 strict decoding error", async () => {
    const d = deployment("strict") as Record<string, unknown> & { spec: Record<string, unknown> };
    d.spec.foo = 1;
    const a = await raw(srv, "POST", `${DEPLOY}?fieldValidation=Strict`, { body: JSON.stringify(d), headers: JSON_CT });
    assertStatus(a, 400, "BadRequest");
    assert.match(a.json.message, /^strict decoding error: unknown field "spec\.foo"/);
    const get = await raw(srv, "GET", `${DEPLOY}/strict`);
    assertStatus(get, 404, "NotFound");
  });

  test("unknown field with fieldValidation=Warn -> 201 and a Warning header", async () => {
    const d = cm("warned", { spam: true });
    const a = await raw(srv, "POST", `${CM}?fieldValidation=Warn`, { body: JSON.stringify(d), headers: JSON_CT });
    assert.equal(a.status, 201, a.text);
    assert.match(String(a.headers.warning), /^299 - "unknown field \\"spam\\""/);
    assert.equal((await raw(srv, "DELETE", `${CM}/warned`)).status, 200);
  });

  test("protobuf body of a kind not decoded -> 415 with a clear message; a malformed envelope -> 400", async () => {
    // k8s\0 + runtime.Unknown{typeMeta: {apiVersion: "v1", kind: "Widget"}}: no such kind has a protobuf definition.
    const typeMeta = Buffer.concat([
      Buffer.from([0x0a, 0x02]),
      Buffer.from("v1"),
      Buffer.from([0x12, 0x06]),
      Buffer.from("Widget"),
    ]);
    const a = await raw(srv, "POST", CM, {
      body: Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, typeMeta.length]), typeMeta]),
      headers: { "content-type": "application/vnd.kubernetes.protobuf" },
    });
    assertStatus(a, 415, "UnsupportedMediaType");
    assert.match(a.json.message, /protobuf/);
    const truncated = await raw(srv, "POST", CM, {
      body: Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x02]),
      headers: { "content-type": "application/vnd.kubernetes.protobuf" },
    });
    assertStatus(truncated, 400, "BadRequest");
    await assertNoConfigMaps();
  });

  test("unknown media type -> 415, unknown patch type -> 415", async () => {
    assertStatus(
      await raw(srv, "POST", CM, { body: "a=b", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
      "UnsupportedMediaType",
    );
    assertStatus(await raw(srv, "PATCH", `${CM}/x`, { body: "{}", headers: JSON_CT }), 415, "UnsupportedMediaType");
    await assertNoConfigMaps();
  });

  test("bad query parameters -> 400", async () => {
    assertStatus(await raw(srv, "POST", `${CM}?dryRun=Some`, { body: JSON.stringify(cm("q")), headers: JSON_CT }), 400);
    assertStatus(
      await raw(srv, "POST", `${CM}?fieldValidation=Loud`, { body: JSON.stringify(cm("q")), headers: JSON_CT }),
      400,
    );
    assertStatus(await raw(srv, "GET", `${CM}?limit=abc`), 400);
    assertStatus(await raw(srv, "GET", `${CM}?labelSelector=app+in+%28a`), 400, "BadRequest");
    assertStatus(await raw(srv, "GET", `${CM}?watch=true&labelSelector=app+in+%28a`), 400, "BadRequest");
    assertStatus(await raw(srv, "GET", `${CM}?watch=true&fieldSelector=%3D%3Dx`), 400, "BadRequest");
    await assertNoConfigMaps();
  });

  test("unknown paths and resources -> 404 Status", async () => {
    assertStatus(await raw(srv, "GET", "/api/v1/namespaces/default/widgets"), 404, "NotFound");
    assertStatus(await raw(srv, "GET", "/apis/nope.example.com/v1"), 404, "NotFound");
    assertStatus(await raw(srv, "GET", "/nothing/here"), 404, "NotFound");
    assertStatus(await raw(srv, "GET", `${CM}/missing`), 404, "NotFound");
    assert.equal((await raw(srv, "GET", `${CM}/missing`)).json.message, 'configmaps "missing" not found');
  });

  test("wrong verb for a resource -> 405", async () => {
    assertStatus(await raw(srv, "DELETE", "/api/v1/namespaces"), 405, "MethodNotAllowed");
  });

  test("PUT with a name that differs from the URL -> 400", async () => {
    const a = await raw(srv, "PUT", `${CM}/one`, { body: JSON.stringify(cm("two")), headers: JSON_CT });
    assertStatus(a, 400, "BadRequest");
    await assertNoConfigMaps();
  });
});

describe("good input", () => {
  test("create from YAML, get, dryRun stores nothing", async () => {
    const yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n";
    const a = await raw(srv, "POST", CM, { body: yaml, headers: { "content-type": "application/yaml" } });
    assert.equal(a.status, 201, a.text);
    assert.equal(a.json.metadata.namespace, NS);
    assert.ok(a.json.metadata.uid);
    assert.ok(a.json.metadata.resourceVersion);
    const dry = await raw(srv, "POST", `${CM}?dryRun=All`, { body: JSON.stringify(cm("dry")), headers: JSON_CT });
    assert.equal(dry.status, 201, dry.text);
    assertStatus(await raw(srv, "GET", `${CM}/dry`), 404, "NotFound");
    const del = await raw(srv, "DELETE", `${CM}/from-yaml`, {
      body: JSON.stringify({ kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background" }),
      headers: JSON_CT,
    });
    assert.equal(del.status, 200, del.text);
    assertStatus(await raw(srv, "GET", `${CM}/from-yaml`), 404, "NotFound");
  });

  test("DELETE answers as upstream: a Status naming what went, the object when deletion waits, the object for pods, services and storage classes", async () => {
    const created = await raw(srv, "POST", CM, { body: JSON.stringify(cm("gone")), headers: JSON_CT });
    assert.equal(created.status, 201, created.text);
    const gone = await raw(srv, "DELETE", `${CM}/gone`);
    assert.equal(gone.status, 200, gone.text);
    // No code and no empty group, as upstream serializes it.
    assert.deepEqual(gone.json, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name: "gone", kind: "configmaps", uid: created.json.metadata.uid },
    });
    const d = await raw(srv, "POST", DEPLOY, { body: JSON.stringify(deployment("gone-apps")), headers: JSON_CT });
    assert.equal(d.status, 201, d.text);
    const dgone = await raw(srv, "DELETE", `${DEPLOY}/gone-apps`);
    assert.deepEqual(dgone.json.details, {
      name: "gone-apps",
      group: "apps",
      kind: "deployments",
      uid: d.json.metadata.uid,
    });
    // A finalizer keeps it: the object, now with its deletionTimestamp.
    await raw(srv, "POST", CM, {
      body: JSON.stringify(cm("kept", { metadata: { name: "kept", finalizers: ["example.com/hold"] } })),
      headers: JSON_CT,
    });
    const kept = await raw(srv, "DELETE", `${CM}/kept`);
    assert.equal(kept.status, 200, kept.text);
    assert.equal(kept.json.kind, "ConfigMap");
    assert.ok(kept.json.metadata.deletionTimestamp, kept.text);
    // orphanDependents=false (background) on an object a finalizer keeps: 202 Accepted, as upstream.
    const held = deployment("held");
    const fg = await raw(srv, "POST", DEPLOY, {
      body: JSON.stringify({ ...held, metadata: { ...held.metadata, finalizers: ["example.com/hold"] } }),
      headers: JSON_CT,
    });
    assert.equal(fg.status, 201, fg.text);
    const accepted = await raw(srv, "DELETE", `${DEPLOY}/held`, {
      body: JSON.stringify({ orphanDependents: false }),
      headers: JSON_CT,
    });
    assert.equal(accepted.status, 202, accepted.text);
    assert.equal(accepted.json.kind, "Deployment");
    const patch = { metadata: { finalizers: null } };
    for (const path of [`${CM}/kept`, `${DEPLOY}/held`]) {
      const r = await raw(srv, "PATCH", path, {
        body: JSON.stringify(patch),
        headers: { "content-type": "application/merge-patch+json" },
      });
      assert.equal(r.status, 200, r.text);
    }
    // Services (ReturnDeletedObject upstream): the object itself.
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "gone-svc" },
      spec: { ports: [{ port: 80 }] },
    };
    assert.equal(
      (await raw(srv, "POST", `/api/v1/namespaces/${NS}/services`, { body: JSON.stringify(svc), headers: JSON_CT }))
        .status,
      201,
    );
    const svcGone = await raw(srv, "DELETE", `/api/v1/namespaces/${NS}/services/gone-svc`);
    assert.equal(svcGone.status, 200, svcGone.text);
    assert.equal(svcGone.json.kind, "Service");
    const sc = {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "gone-sc" },
      provisioner: "example.com/x",
    };
    const scPath = "/apis/storage.k8s.io/v1/storageclasses";
    assert.equal((await raw(srv, "POST", scPath, { body: JSON.stringify(sc), headers: JSON_CT })).status, 201);
    const scGone = await raw(srv, "DELETE", `${scPath}/gone-sc`);
    assert.equal(scGone.status, 200, scGone.text);
    assert.equal(scGone.json.kind, "StorageClass");
    assertStatus(await raw(srv, "GET", `${CM}/kept`), 404, "NotFound");
  });

  test("PUT /scale without a Content-Type (kubectl scale --current-replicas)", async () => {
    const created = await raw(srv, "POST", DEPLOY, { body: JSON.stringify(deployment("scaled", 2)), headers: JSON_CT });
    assert.equal(created.status, 201, created.text);
    const scale = await raw(srv, "GET", `${DEPLOY}/scaled/scale`);
    assert.equal(scale.status, 200, scale.text);
    assert.equal(scale.json.kind, "Scale");
    assert.equal(scale.json.apiVersion, "autoscaling/v1");
    assert.equal(scale.json.spec.replicas, 2);
    scale.json.spec.replicas = 5;
    const put = await raw(srv, "PUT", `${DEPLOY}/scaled/scale`, { body: JSON.stringify(scale.json) });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.spec.replicas, 5);
    const patched = await raw(srv, "PATCH", `${DEPLOY}/scaled/scale`, {
      body: JSON.stringify({ spec: { replicas: 3 } }),
      headers: { "content-type": "application/merge-patch+json" },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.spec.replicas, 3);
    const d = await raw(srv, "GET", `${DEPLOY}/scaled`);
    assert.equal(d.json.spec.replicas, 3);
    const del = await raw(srv, "DELETE", `${DEPLOY}/scaled`, {
      body: JSON.stringify({ propagationPolicy: "Background" }),
      headers: JSON_CT,
    });
    assert.equal(del.status, 200, del.text);
  });

  test("the four patch types", async () => {
    assert.equal((await raw(srv, "POST", CM, { body: JSON.stringify(cm("patched")), headers: JSON_CT })).status, 201);
    const merge = await raw(srv, "PATCH", `${CM}/patched`, {
      body: JSON.stringify({ data: { m: "1" } }),
      headers: { "content-type": "application/merge-patch+json" },
    });
    assert.equal(merge.status, 200, merge.text);
    assert.deepEqual(merge.json.data, { a: "b", m: "1" });
    const jp = await raw(srv, "PATCH", `${CM}/patched`, {
      body: JSON.stringify([{ op: "add", path: "/data/j", value: "2" }]),
      headers: { "content-type": "application/json-patch+json" },
    });
    assert.equal(jp.status, 200, jp.text);
    assert.equal(jp.json.data.j, "2");
    const smp = await raw(srv, "PATCH", `${CM}/patched`, {
      body: JSON.stringify({ data: { s: "3" } }),
      headers: { "content-type": "application/strategic-merge-patch+json" },
    });
    assert.equal(smp.status, 200, smp.text);
    assert.equal(smp.json.data.s, "3");
    const apply = await raw(srv, "PATCH", `${CM}/applied?fieldManager=test&force=true`, {
      body: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  x: y\n",
      headers: { "content-type": "application/apply-patch+yaml" },
    });
    assert.equal(apply.status, 201, apply.text);
    assert.equal(apply.json.data.x, "y");
    const badJsonPatch = await raw(srv, "PATCH", `${CM}/patched`, {
      body: "{not json",
      headers: { "content-type": "application/merge-patch+json" },
    });
    assertStatus(badJsonPatch, 400, "BadRequest");
    const coll = await raw(srv, "DELETE", CM);
    assert.equal(coll.status, 200, coll.text);
    await assertNoConfigMaps();
  });
});
