// The audit log of a real API server: --audit-policy-file (an audit.k8s.io/v1 Policy) and
// --audit-log-path (a file), driven by the real kubectl. Every request the policy records gives
// one JSON line per stage: RequestReceived (unless omitted) and ResponseComplete, with the user,
// the verb, the object reference, the response status, the objects at Request/RequestResponse,
// and the annotations of authorization and admission.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { AuditEvent } from "../../apiserver/audit/audit.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let kc: Kubectl;
let dir: string;
let logPath: string;

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/api*", "/openapi*"]
- level: RequestResponse
  resources:
  - group: ""
    resources: ["configmaps"]
- level: Request
  verbs: ["create", "update", "patch"]
  resources:
  - group: ""
    resources: ["pods"]
  omitStages: ["RequestReceived"]
- level: None
  users: ["kubernetes-admin"]
  verbs: ["get", "list", "watch"]
  resources:
  - group: ""
    resources: ["namespaces"]
- level: Metadata
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "kubeling-audit-"));
  logPath = join(dir, "audit.log");
  await writeFile(join(dir, "policy.yaml"), POLICY);
  srv = await startApiServer({
    extraArgs: [`--audit-policy-file=${join(dir, "policy.yaml")}`, `--audit-log-path=${logPath}`],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function events(): Promise<AuditEvent[]> {
  const text = await readFile(logPath, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** The events matching pred, once at least n are in the file. */
async function eventsWhere(pred: (e: AuditEvent) => boolean, n = 1): Promise<AuditEvent[]> {
  return waitFor(
    async () => {
      const found = (await events()).filter(pred);
      return found.length >= n ? found : undefined;
    },
    { timeoutMs: 10_000, message: `${n} matching audit events` },
  );
}

describe("audit log", () => {
  test("a configmap create at RequestResponse: both stages, the objects, the authorization decision", async () => {
    await kc.ok(["create", "configmap", "audited", "--from-literal=k=v"]);
    const evs = await eventsWhere((e) => e.objectRef?.resource === "configmaps" && e.verb === "create", 2);
    assert.deepEqual(
      evs.map((e) => e.stage),
      ["RequestReceived", "ResponseComplete"],
    );
    const [received, done] = evs as [AuditEvent, AuditEvent];
    assert.equal(received.auditID, done.auditID);
    assert.equal(done.kind, "Event");
    assert.equal(done.apiVersion, "audit.k8s.io/v1");
    assert.equal(done.level, "RequestResponse");
    // kubectl's kubeconfig: the harness's admin client certificate.
    assert.equal(done.user.username, "kubernetes-admin");
    assert.ok(done.user.groups?.includes("system:masters"));
    assert.match(done.userAgent ?? "", /^kubectl/);
    assert.deepEqual(done.objectRef, { resource: "configmaps", namespace: "default", apiVersion: "v1" });
    assert.deepEqual(done.responseStatus, { metadata: {}, code: 201 });
    assert.equal((done.requestObject as { data?: { k?: string } }).data?.k, "v");
    assert.ok((done.responseObject as { metadata?: { uid?: string } }).metadata?.uid);
    assert.equal(done.annotations?.["authorization.k8s.io/decision"], "allow");
    assert.match(done.requestReceivedTimestamp, /\.\d{6}Z$/);
    assert.ok(done.stageTimestamp >= done.requestReceivedTimestamp);
  });

  test("levels by rule: Request for pod writes (with PodSecurity's annotations), Metadata for the rest, None where the policy says", async () => {
    await kc.ok(["run", "audited-pod", "--image=busybox"]);
    const [create] = await eventsWhere((e) => e.objectRef?.resource === "pods" && e.verb === "create");
    assert.equal(create?.stage, "ResponseComplete", "RequestReceived is omitted by the policy");
    assert.equal(create?.level, "Request");
    assert.ok(create?.requestObject);
    assert.equal(create?.responseObject, undefined);
    assert.equal(create?.annotations?.["pod-security.kubernetes.io/enforce-policy"], "privileged:latest");

    const r = await kc.run(["get", "secret", "nope"]);
    assert.equal(r.code, 1);
    const [missing] = await eventsWhere(
      (e) => e.stage === "ResponseComplete" && e.objectRef?.resource === "secrets" && e.objectRef.name === "nope",
    );
    assert.equal(missing?.level, "Metadata");
    assert.equal(missing?.verb, "get");
    assert.equal(missing?.responseStatus?.code, 404);
    assert.equal(missing?.responseStatus?.reason, "NotFound");
    assert.equal(missing?.requestObject, undefined);

    await kc.ok(["get", "namespaces"]);
    await kc.ok(["get", "pods"]);
    await eventsWhere((e) => e.objectRef?.resource === "pods" && e.verb === "list");
    const all = await events();
    const nsLists = all.filter((e) => e.objectRef?.resource === "namespaces" && e.verb === "list");
    assert.deepEqual(
      nsLists.map((e) => e.user.username),
      [],
      "the rule for admin's namespace reads",
    );
    assert.equal(
      all.filter((e) => e.requestURI.startsWith("/healthz") || e.requestURI.startsWith("/readyz")).length,
      0,
    );
  });
});
