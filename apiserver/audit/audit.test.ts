import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { silentLogger } from "#pkg/runtime/log.js";
import { enabledAdmissionPlugins } from "../admission/plugins.js";
import { parseTokenFile } from "../auth/tokens.js";
import { encodeProtobuf, PROTOBUF } from "../http/protobuf.js";
import { Registry } from "../registry/registry.js";
import { buildServer } from "../server.js";
import { MemoryStorage } from "../storage/memory.js";
import { Auditor, MemoryBackend, microTime, sourceIPs } from "./audit.js";
import { parsePolicy } from "./policy.js";

const policy = parsePolicy(
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: None
  nonResourceURLs: ["/healthz*"]
- level: RequestResponse
  resources: [{group: "", resources: ["configmaps"]}]
- level: Request
  resources: [{group: "", resources: ["pods"]}]
  omitStages: [RequestReceived]
- level: Metadata
`,
  "policy.yaml",
);

let registry: Registry;
let storage: MemoryStorage;
const backend = new MemoryBackend();
let app: ReturnType<typeof buildServer>["app"];
const auth = { authorization: "Bearer tok", "user-agent": "test/1.0", "content-type": "application/json" };

before(async () => {
  storage = new MemoryStorage({ prefix: "/audit" });
  registry = await Registry.open({
    etcdServers: [],
    prefix: "/audit",
    storage,
    log: silentLogger,
    compactionIntervalMs: 0,
    // Pods here run as no ServiceAccount: nothing makes the accounts (no controller-manager).
    admissionPlugins: enabledAdmissionPlugins([], ["ServiceAccount"]),
  });
  app = buildServer({
    registry,
    log: silentLogger,
    auth: parseTokenFile('tok,alice,42,"dev"\n').requestAuthenticator(),
    auditor: new Auditor(policy, backend),
  }).app;
});

after(async () => {
  await app.close();
  await registry.close();
  storage.close();
});

/** The events of the request with this audit ID, by stage. */
const eventsOf = (auditID: string) => backend.events.filter((e) => e.auditID === auditID);

describe("audit events", () => {
  test("RequestResponse: both stages, who and what, the request and response objects", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/configmaps?fieldManager=me",
      headers: { ...auth, "x-forwarded-for": "10.0.0.1" },
      payload: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { k: "v" } },
    });
    assert.equal(res.statusCode, 201, res.body);
    const id = String(res.headers["audit-id"]);
    const [received, complete] = eventsOf(id);
    assert.equal(received?.stage, "RequestReceived");
    assert.equal(complete?.stage, "ResponseComplete");
    assert.deepEqual(Object.keys(complete ?? {}), [
      "kind",
      "apiVersion",
      "level",
      "auditID",
      "stage",
      "requestURI",
      "verb",
      "user",
      "sourceIPs",
      "userAgent",
      "objectRef",
      "responseStatus",
      "requestObject",
      "responseObject",
      "requestReceivedTimestamp",
      "stageTimestamp",
    ]);
    assert.equal(complete?.kind, "Event");
    assert.equal(complete?.apiVersion, "audit.k8s.io/v1");
    assert.equal(complete?.level, "RequestResponse");
    assert.equal(complete?.requestURI, "/api/v1/namespaces/default/configmaps?fieldManager=me");
    assert.equal(complete?.verb, "create");
    assert.deepEqual(complete?.user, { username: "alice", uid: "42", groups: ["dev"] });
    assert.equal(complete?.sourceIPs?.[0], "10.0.0.1");
    assert.equal(complete?.userAgent, "test/1.0");
    assert.deepEqual(complete?.objectRef, { resource: "configmaps", namespace: "default", apiVersion: "v1" });
    assert.deepEqual(complete?.responseStatus, { metadata: {}, code: 201 });
    assert.deepEqual(complete?.requestObject, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c" },
      data: { k: "v" },
    });
    const out = complete?.responseObject as { metadata: { uid?: string; managedFields?: unknown } };
    assert.ok(out.metadata.uid);
    assert.equal(out.metadata.managedFields, undefined, "omitManagedFields");
    assert.match(complete?.stageTimestamp ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(received?.requestObject, undefined, "objects only at ResponseComplete");
  });

  test("protobuf request and response bodies are logged as the objects they decode to", async () => {
    const body = encodeProtobuf({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "pb" }, data: { k: "v" } });
    assert.ok(body);
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/configmaps",
      headers: { ...auth, "content-type": PROTOBUF, accept: `${PROTOBUF}, application/json` },
      payload: body,
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers["content-type"], PROTOBUF);
    const [, complete] = eventsOf(String(res.headers["audit-id"]));
    assert.deepEqual((complete?.requestObject as { data?: unknown } | undefined)?.data, { k: "v" });
    const out = complete?.responseObject as { kind?: string; metadata?: { name?: string; uid?: string } };
    assert.equal(out.kind, "ConfigMap");
    assert.equal(out.metadata?.name, "pb");
    assert.ok(out.metadata?.uid);
  });

  test("failures carry the Status; Metadata levels carry no objects; omitted stages are left out", async () => {
    const missing = await app.inject({ method: "GET", url: "/api/v1/namespaces/default/secrets/nope", headers: auth });
    assert.equal(missing.statusCode, 404);
    const [, done] = eventsOf(String(missing.headers["audit-id"]));
    assert.equal(done?.level, "Metadata");
    assert.deepEqual(done?.responseStatus, {
      metadata: {},
      status: "Failure",
      message: 'secrets "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "secrets" },
      code: 404,
    });
    assert.equal(done?.responseObject, undefined);
    assert.equal(done?.objectRef?.name, "nope");

    const pod = await app.inject({
      method: "POST",
      url: "/api/v1/namespaces/default/pods",
      headers: auth,
      payload: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: { containers: [{ name: "c", image: "x" }] },
      },
    });
    assert.equal(pod.statusCode, 201, pod.body);
    const podEvents = eventsOf(String(pod.headers["audit-id"]));
    assert.deepEqual(
      podEvents.map((e) => e.stage),
      ["ResponseComplete"],
    );
    assert.equal(podEvents[0]?.level, "Request");
    assert.ok(podEvents[0]?.requestObject);
    assert.equal(podEvents[0]?.responseObject, undefined);
    assert.equal(
      podEvents[0]?.annotations?.["pod-security.kubernetes.io/enforce-policy"],
      "privileged:latest",
      "admission's annotations",
    );
  });

  test("None records nothing; a failed authentication is recorded without a user", async () => {
    const before = backend.events.length;
    const health = await app.inject({ method: "GET", url: "/healthz" });
    assert.equal(health.statusCode, 200);
    assert.equal(backend.events.length, before);
    assert.equal(health.headers["audit-id"], undefined);
    const denied = await app.inject({
      method: "GET",
      url: "/api/v1/services",
      headers: { authorization: "Bearer wrong" },
    });
    assert.equal(denied.statusCode, 401);
    const [, done] = eventsOf(String(denied.headers["audit-id"]));
    assert.deepEqual(done?.user, {});
    assert.equal(done?.verb, "list");
    assert.equal(done?.responseStatus?.code, 401);
    assert.equal(done?.responseStatus?.reason, "Unauthorized");
  });

  test("an Audit-ID the client sends is kept", async () => {
    const res = await app.inject({ method: "GET", url: "/version", headers: { ...auth, "audit-id": "abc-123" } });
    assert.equal(res.headers["audit-id"], "abc-123");
    const done = eventsOf("abc-123").find((e) => e.stage === "ResponseComplete");
    assert.equal(done?.verb, "get");
    assert.equal(done?.objectRef, undefined, "non-resource requests have no objectRef");
  });
});

test("helpers: microTime, sourceIPs", () => {
  assert.equal(microTime(Date.UTC(2024, 4, 1, 12, 0, 0, 123)), "2024-05-01T12:00:00.123000Z");
  assert.deepEqual(sourceIPs({ "x-forwarded-for": "1.1.1.1, 2.2.2.2", "x-real-ip": "3.3.3.3" }, "::ffff:127.0.0.1"), [
    "1.1.1.1",
    "2.2.2.2",
    "3.3.3.3",
    "127.0.0.1",
  ]);
});
