// PodDisruptionBudgets end to end against a real API server and etcd: the policy/v1 kind as the
// real kubectl sees it (discovery, create, get columns, validation), and pods/eviction honouring
// a budget's status.

import assert from "node:assert/strict";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import { PODDISRUPTIONBUDGETS, PODS } from "#pkg/api/resources.js";
import type { Pod, PodDisruptionBudget } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

let srv: TestApiServer;
let kc: Kubectl;
const ok = (args: string[]) => kc.ok(args);

/** Human table output as rows of cells. */
function rows(out: string): string[][] {
  return out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

before(async () => {
  srv = await startApiServer();
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
});

describe("policy/v1 PodDisruptionBudget", () => {
  test("kubectl api-resources lists it with its short name", async () => {
    const line = rows(await ok(["api-resources", "--api-group=policy"])).find((r) => r[0] === "poddisruptionbudgets");
    assert.deepEqual(line, ["poddisruptionbudgets", "pdb", "policy/v1", "true", "PodDisruptionBudget"]);
  });

  test("kubectl create pdb, then get pdb with upstream's columns", async () => {
    assert.match(
      await ok(["create", "pdb", "web", "--selector=app=web", "--min-available=1"]),
      /^poddisruptionbudget\.policy\/web created$/m,
    );
    await ok(["create", "pdb", "half", "--selector=app=half", "--max-unavailable=50%"]);
    const table = rows(await ok(["get", "pdb"]));
    assert.deepEqual(table[0], ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]);
    assert.deepEqual(table.find((r) => r[0] === "web")?.slice(0, 4), ["web", "1", "N/A", "0"]);
    assert.deepEqual(table.find((r) => r[0] === "half")?.slice(0, 4), ["half", "N/A", "50%", "0"]);
    const stored = await srv.client.get(PODDISRUPTIONBUDGETS, "default", "web");
    assert.equal(stored.metadata.generation, 1);
    assert.deepEqual(stored.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  });

  test("minAvailable and maxUnavailable together are refused with upstream's message", async () => {
    const err = await srv.client
      .create(PODDISRUPTIONBUDGETS, "default", {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name: "both" },
        spec: { minAvailable: 1, maxUnavailable: 1, selector: { matchLabels: { app: "x" } } },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof Error);
    assert.match(
      err.message,
      /^PodDisruptionBudget\.policy "both" is invalid: spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/,
    );
  });
});

/** A Running, Ready pod of app=<app>: no kubelet runs pods here, so the status is written directly. */
async function readyPod(name: string, app: string, nodeName?: string): Promise<Pod> {
  await srv.client.create(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app } },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "busybox" }] },
  });
  const cur = await srv.client.get(PODS, "default", name);
  return srv.client.update(
    PODS,
    "default",
    {
      ...cur,
      status: {
        phase: "Running",
        conditions: [
          { type: "Ready", status: "True", lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") },
        ],
      },
    },
    { subresource: "status" },
  );
}

function evict(name: string) {
  return srv.client.create(
    PODS,
    "default",
    { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace: "default" } },
    { name, subresource: "eviction" },
  );
}

describe("pods/eviction", () => {
  test("spends the budget's allowed disruption, then answers 429 with upstream's message", async () => {
    await readyPod("ev-1", "ev");
    await readyPod("ev-2", "ev");
    await srv.client.create(PODDISRUPTIONBUDGETS, "default", {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "ev" },
      spec: { minAvailable: 1, selector: { matchLabels: { app: "ev" } } },
    });
    // What the disruption controller would write: two healthy of one desired.
    const cur = await srv.client.get(PODDISRUPTIONBUDGETS, "default", "ev");
    await srv.client.update(
      PODDISRUPTIONBUDGETS,
      "default",
      {
        ...cur,
        status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
      },
      { subresource: "status" },
    );

    await evict("ev-1");
    await assert.rejects(srv.client.get(PODS, "default", "ev-1"), (e: unknown) => isNotFound(e));
    const spent = await srv.client.get<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, "default", "ev");
    assert.equal(spent.status?.disruptionsAllowed, 0);
    assert.ok(spent.status?.disruptedPods?.["ev-1"], "the evicted pod is recorded for the controller");

    const res = await srv.client.request("POST", "/api/v1/namespaces/default/pods/ev-2/eviction", {
      body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "ev-2" } },
    });
    assert.equal(res.statusCode, 429);
    const body = JSON.parse(await text(res.body));
    assert.equal(body.reason, "TooManyRequests");
    assert.equal(body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(body.details.causes, [
      { reason: "DisruptionBudget", message: "The disruption budget ev needs 1 healthy pods and has 2 currently" },
    ]);
    await assert.rejects(evict("ev-2"), (e: unknown) => e instanceof StatusError && e.code === 429);
    assert.equal((await srv.client.get(PODS, "default", "ev-2")).metadata.name, "ev-2");
  });
});
