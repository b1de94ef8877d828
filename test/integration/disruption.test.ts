// PodDisruptionBudgets end to end against a real API server and etcd: the policy/v1 kind as the
// real kubectl sees it (discovery, create, get columns, validation), pods/eviction honouring a
// budget's status, and the disruption controller (in-process) keeping that status, with the real
// `kubectl drain` and `kubeling drain` refusing while a budget forbids and draining once it allows. No kubelet runs
// here: pods are made Running and Ready through their status, on a Node object nobody runs.

import assert from "node:assert/strict";
import { text } from "node:stream/consumers";
import { after, before, describe, test } from "node:test";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import type { OwnerReference } from "#pkg/api/meta.js";
import { NODES, PODDISRUPTIONBUDGETS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { Pod, PodDisruptionBudget } from "#pkg/api/types/index.js";
import { DisruptionController } from "../../controller-manager/disruption/disruption.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { node, pod, replicaSet, setPodRunningReady } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let kc: Kubectl;
const ok = (args: string[]) => kc.ok(args);
/** The kubeling CLI's flags for this server. */
const kubeling = () => ["--kubeconfig", srv.kubeconfigPath];

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
      await ok(["create", "pdb", "min", "--selector=app=min", "--min-available=1"]),
      /^poddisruptionbudget\.policy\/min created$/m,
    );
    await ok(["create", "pdb", "half", "--selector=app=half", "--max-unavailable=50%"]);
    const table = rows(await ok(["get", "pdb"]));
    assert.deepEqual(table[0], ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]);
    assert.deepEqual(table.find((r) => r[0] === "min")?.slice(0, 4), ["min", "1", "N/A", "0"]);
    assert.deepEqual(table.find((r) => r[0] === "half")?.slice(0, 4), ["half", "N/A", "50%", "0"]);
    const stored = await srv.client.get(PODDISRUPTIONBUDGETS, "default", "min");
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

/**
 * A Running, Ready pod of app=<app>: no kubelet runs pods here, so the status is written directly.
 * terminationGracePeriodSeconds 0: a delete removes it at once, with no kubelet to confirm.
 */
async function readyPod(
  name: string,
  app: string,
  o: { nodeName?: string; owner?: OwnerReference } = {},
): Promise<Pod> {
  const created = await srv.client.create(
    PODS,
    "default",
    pod(name, {
      app,
      command: null,
      terminationGracePeriodSeconds: 0,
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.owner ? { ownerReferences: [o.owner] } : {}),
    }),
  );
  return setPodRunningReady(srv.client, created);
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

describe("disruption controller and kubectl drain", () => {
  let running: RunningController<DisruptionController> | undefined;
  before(() => {
    running = runController(srv, (ctx) => new DisruptionController(ctx));
  });
  after(async () => {
    await running?.stop();
  });

  const NODE = "drain-node";

  async function budgetStatus(ok: (pdb: PodDisruptionBudget) => boolean, what: string): Promise<PodDisruptionBudget> {
    return waitFor(
      async () => {
        const pdb = await srv.client.get<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, "default", "web");
        return ok(pdb) ? pdb : undefined;
      },
      { timeoutMs: 20_000, message: what },
    );
  }

  test("status from a ReplicaSet's scale; eviction allowed, then refused; drain refused, then done", async () => {
    await srv.client.create(NODES, undefined, node(NODE));
    // A ReplicaSet nobody runs: it owns the pods and says how many there should be.
    const rs = await srv.client.create(REPLICASETS, "default", replicaSet("web", 3, { command: null }));
    const owner: OwnerReference = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      name: "web",
      uid: rs.metadata.uid ?? "",
      controller: true,
      blockOwnerDeletion: true,
    };
    await readyPod("web-a", "web", { nodeName: NODE, owner });
    await readyPod("web-b", "web", { nodeName: NODE, owner });
    await readyPod("web-c", "web", { nodeName: "other-node", owner });
    await kc.ok(["create", "pdb", "web", "--selector=app=web", "--min-available=50%"]);

    // 50% of the ReplicaSet's 3 rounds up to 2: one of the three healthy pods may go.
    const pdb = await budgetStatus(
      (p) => p.status?.observedGeneration === 1 && p.status.expectedPods === 3,
      "the controller's first status",
    );
    assert.deepEqual(
      [pdb.status?.currentHealthy, pdb.status?.desiredHealthy, pdb.status?.disruptionsAllowed],
      [3, 2, 1],
    );
    const cond = pdb.status?.conditions?.find((c) => c.type === "DisruptionAllowed");
    assert.deepEqual([cond?.status, cond?.reason], ["True", "SufficientPods"]);
    assert.deepEqual(rows(await ok(["get", "pdb", "web"]))[1]?.slice(0, 4), ["web", "50%", "N/A", "1"]);

    await evict("web-c");
    await assert.rejects(srv.client.get(PODS, "default", "web-c"), (e: unknown) => isNotFound(e));
    // The controller sees the pod gone and drops it from disruptedPods: 2 healthy of 2 desired.
    await budgetStatus(
      (p) => p.status?.currentHealthy === 2 && p.status.disruptedPods === undefined,
      "the budget after the eviction",
    );
    const refused = await evict("web-a").then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(refused instanceof StatusError && refused.code === 429, String(refused));
    assert.equal(refused.message, "Cannot evict pod as it would violate the pod's disruption budget.");

    // kubectl drain retries every 5 s on 429 and gives up at its timeout, leaving the pods.
    const drain = ["drain", NODE, "--ignore-daemonsets", "--delete-emptydir-data", "--force"];
    const r = await kc.run([...drain, "--timeout=3s"]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(
      r.stderr,
      /error when evicting pods\/"web-[ab]" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
    );
    assert.match(r.stderr, /global timeout reached: 3s/);
    assert.equal((await srv.client.list(PODS, "default", { fieldSelector: `spec.nodeName=${NODE}` })).items.length, 2);

    // kubeling drain does the same, with kubectl's messages.
    const k = await runCli([...kubeling(), ...drain, "--timeout=3s"]);
    assert.equal(k.code, 1, k.stdout);
    assert.match(k.stdout, /^node\/drain-node already cordoned\nevicting pod default\/web-[ab]\n/);
    assert.match(
      k.stderr,
      /error when evicting pods\/"web-[ab]" -n "default" \(will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./,
    );
    assert.match(
      k.stderr,
      /There are pending pods in node "drain-node" when an error occurred: \[error when evicting pods\/"web-[ab]" -n "default": global timeout reached: 3s, error when evicting pods\/"web-[ab]" -n "default": global timeout reached: 3s\]\npod\/web-a\npod\/web-b\nerror: unable to drain node "drain-node" due to error: /,
    );
    assert.equal((await srv.client.list(PODS, "default", { fieldSelector: `spec.nodeName=${NODE}` })).items.length, 2);

    // kubeling get and describe show the budget as kubectl does.
    const got = await runCli([...kubeling(), "get", "pdb", "web"]);
    assert.deepEqual(rows(got.stdout)[0], ["NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"]);
    assert.deepEqual(rows(got.stdout)[1]?.slice(0, 4), ["web", "50%", "N/A", "0"]);
    const described = await runCli([...kubeling(), "describe", "pdb", "web"]);
    assert.equal(described.code, 0, described.stderr);
    assert.match(described.stdout, /^Min available:\s+50%$/m);
    assert.match(described.stdout, /^Selector:\s+app=web$/m);
    assert.match(
      described.stdout,
      /^ {4}Allowed disruptions:\s+0\n {4}Current:\s+2\n {4}Desired:\s+2\n {4}Total:\s+3$/m,
    );

    // A budget that allows every pod to go: drain evicts both and reports the node drained.
    await kc.ok([
      "patch",
      "pdb",
      "web",
      "--type=merge",
      "-p",
      '{"spec":{"minAvailable":null,"maxUnavailable":"100%"}}',
    ]);
    await budgetStatus(
      (p) => p.status?.observedGeneration === 2 && p.status.disruptionsAllowed === 2,
      "the budget allowing both pods to go",
    );
    const out = await kc.ok([...drain, "--timeout=60s"]);
    assert.match(out, /pod\/web-a evicted/);
    assert.match(out, /pod\/web-b evicted/);
    assert.match(out, /node\/drain-node drained/);
    assert.equal((await srv.client.list(PODS, "default", { fieldSelector: `spec.nodeName=${NODE}` })).items.length, 0);
    const drained = await srv.client.get(NODES, undefined, NODE);
    assert.equal(drained.spec?.unschedulable, true);

    // And kubeling drain, given new pods there, evicts them while the budget allows.
    await readyPod("web-d", "web", { nodeName: NODE, owner });
    await budgetStatus((p) => p.status?.disruptionsAllowed === 1, "the budget counting the new pod");
    const k2 = await runCli([...kubeling(), ...drain, "--timeout=60s"]);
    assert.equal(k2.code, 0, k2.stderr);
    assert.equal(
      k2.stdout,
      "node/drain-node already cordoned\nevicting pod default/web-d\npod/web-d evicted\nnode/drain-node drained\n",
    );
  });
});
