// EvictionREST over a Registry on the in-memory storage: the real pod and budget stores
// (strategies, conditional writes), so the budget bookkeeping is what the API server does.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { PODDISRUPTIONBUDGETS, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PodDisruptionBudget, PodDisruptionBudgetStatus } from "#pkg/api/types/policy.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { enabledAdmissionPlugins } from "../../../admission/plugins.js";
import { MemoryStorage } from "../../../storage/memory.js";
import { Registry } from "../../registry.js";
import type { Store } from "../../store.js";
import { type Eviction, EvictionREST } from "./eviction.js";

const NS = "default";
const NOW = Date.parse("2024-05-01T12:00:00Z");
let storage: MemoryStorage;
let reg: Registry;
let pods: Store;
let pdbs: Store;
let rest: EvictionREST;
let seq = 0;

before(async () => {
  storage = new MemoryStorage({ prefix: "/evict" });
  reg = await Registry.open({
    storage,
    etcdServers: [],
    prefix: "/evict",
    serviceClusterIPRange: "10.96.0.0/12",
    log: silentLogger,
    compactionIntervalMs: 0,
    // Pods here run as no ServiceAccount: nothing makes the accounts (no controller-manager).
    admissionPlugins: enabledAdmissionPlugins([], ["ServiceAccount"]),
  });
  pods = reg.store(PODS);
  pdbs = reg.store(PODDISRUPTIONBUDGETS);
  rest = new EvictionREST({ pods, pdbs, now: () => NOW, sleep: async () => {} });
});

after(async () => {
  await reg.close();
  storage.close();
});

/** A pod of app=<app> in phase, Ready or not, written through the status subresource as a kubelet would. */
async function pod(app: string, o: { phase?: string; ready?: boolean } = {}): Promise<Pod> {
  const name = `p${++seq}`;
  await pods.create(
    NS,
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, labels: { app } },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    } as KubeObject,
    {},
  );
  const cur = (await pods.get(NS, name)) as Pod;
  const ready = o.ready ?? true;
  const next = {
    ...cur,
    status: {
      phase: o.phase ?? "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: "2024-05-01T11:00:00Z" }],
    },
  } as Pod;
  return (await pods.update(NS, name, next as KubeObject, { subresource: "status" })).object as Pod;
}

/** A budget over app=<app> whose status is as given (observedGeneration current unless said). */
async function budget(
  app: string,
  status: Partial<PodDisruptionBudgetStatus>,
  spec: Partial<NonNullable<PodDisruptionBudget["spec"]>> = { minAvailable: 1 },
): Promise<PodDisruptionBudget> {
  const name = `b${++seq}`;
  await pdbs.create(
    NS,
    {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name },
      spec: { selector: { matchLabels: { app } }, ...spec },
    } as KubeObject,
    {},
  );
  const cur = (await pdbs.get(NS, name)) as PodDisruptionBudget;
  const next = {
    ...cur,
    status: {
      disruptionsAllowed: 0,
      currentHealthy: 0,
      desiredHealthy: 0,
      expectedPods: 0,
      observedGeneration: 1,
      ...status,
    },
  };
  return (await pdbs.update(NS, name, next as KubeObject, { subresource: "status" })).object as PodDisruptionBudget;
}

const evict = (p: Pod, o: Partial<Eviction> = {}, ctx = {}) =>
  rest.create(
    NS,
    p.metadata.name ?? "",
    { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: p.metadata.name }, ...o },
    o.deleteOptions ?? {},
    ctx,
  );

async function gone(p: Pod): Promise<boolean> {
  return pods.get(NS, p.metadata.name ?? "").then(
    () => false,
    (e: unknown) => isNotFound(e),
  );
}

async function refusal(p: Promise<unknown>): Promise<StatusError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
  return err;
}

describe("pods/eviction", () => {
  test("a pod no budget covers is marked DisruptionTarget, then deleted", async () => {
    const p = await pod("free");
    const seen: Pod[] = [];
    const spy = new EvictionREST({
      pods: {
        get: (ns, name) => pods.get(ns, name),
        update: async (ns, name, obj, ctx) => {
          const res = await pods.update(ns, name, obj, ctx);
          seen.push(res.object as Pod);
          return res;
        },
        delete: (ns, name, opts, ctx) => pods.delete(ns, name, opts, ctx),
      },
      pdbs,
      now: () => NOW,
    });
    assert.equal((await spy.create(NS, p.metadata.name ?? "", { metadata: {} }, {}, {})).status, "Success");
    assert.ok(await gone(p));
    const cond = seen[0]?.status?.conditions?.find((c) => c.type === "DisruptionTarget");
    assert.deepEqual(
      [cond?.status, cond?.reason, cond?.message],
      ["True", "EvictionByEvictionAPI", "Eviction API: evicting"],
    );
  });

  test("a resourceVersion precondition is honoured, and follows the condition's write", async () => {
    const p = await pod("pinned");
    const stale = await refusal(evict(p, { deleteOptions: { preconditions: { resourceVersion: "1" } } }));
    assert.equal(stale.code, 409);
    assert.equal(await gone(p), false);
    assert.equal(
      (await evict(p, { deleteOptions: { preconditions: { resourceVersion: p.metadata.resourceVersion ?? "" } } }))
        .status,
      "Success",
    );
    assert.ok(await gone(p));
  });

  test("a budget that allows a disruption is spent, the pod recorded, then deleted", async () => {
    const p = await pod("spend");
    const b = await budget("spend", { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    assert.equal((await evict(p)).status, "Success");
    assert.ok(await gone(p));
    const after = (await pdbs.get(NS, b.metadata.name ?? "")) as PodDisruptionBudget;
    assert.equal(after.status?.disruptionsAllowed, 0);
    assert.deepEqual(after.status?.disruptedPods, { [p.metadata.name ?? ""]: "2024-05-01T12:00:00Z" });
    const cond = after.status?.conditions?.find((c) => c.type === "DisruptionAllowed");
    assert.deepEqual([cond?.status, cond?.reason], ["False", "InsufficientPods"]);
  });

  test("a budget with no disruption left refuses with 429 and upstream's message and cause", async () => {
    const p = await pod("full");
    const b = await budget("full", { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 });
    const err = await refusal(evict(p));
    assert.equal(err.code, 429);
    assert.equal(err.reason, "TooManyRequests");
    assert.equal(err.message, "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.deepEqual(err.details?.causes, [
      {
        reason: "DisruptionBudget",
        message: `The disruption budget ${b.metadata.name} needs 1 healthy pods and has 1 currently`,
      },
    ]);
    assert.equal(err.details?.retryAfterSeconds, undefined);
    assert.equal(await gone(p), false);
  });

  test("a budget the controller has not seen at this generation refuses, suggesting a retry", async () => {
    const p = await pod("stale");
    const b = await budget("stale", { disruptionsAllowed: 3, observedGeneration: 0 });
    const err = await refusal(evict(p));
    assert.equal(err.code, 429);
    assert.equal(err.details?.retryAfterSeconds, 10);
    assert.equal(
      err.details?.causes?.[0]?.message,
      `The disruption budget ${b.metadata.name} is still being processed by the server.`,
    );
    assert.equal(await gone(p), false);
  });

  test("two budgets over one pod: a 500 Status, nothing deleted", async () => {
    const p = await pod("twice");
    await budget("twice", { disruptionsAllowed: 5 });
    await budget("twice", { disruptionsAllowed: 5 });
    const res = await evict(p);
    assert.equal(res.code, 500);
    assert.equal(res.status, "Failure");
    assert.equal(
      res.message,
      "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
    );
    assert.equal(await gone(p), false);
  });

  test("terminal, pending and terminating pods go whatever the budget says", async () => {
    for (const phase of ["Succeeded", "Failed", "Pending"]) {
      const p = await pod(`done-${phase}`, { phase });
      await budget(`done-${phase}`, { disruptionsAllowed: 0 });
      assert.equal((await evict(p)).status, "Success", phase);
      assert.ok(await gone(p), phase);
    }
    const p = await pod("terminating");
    await pods.update(
      NS,
      p.metadata.name ?? "",
      { ...p, metadata: { ...p.metadata, finalizers: ["x/y"] } } as KubeObject,
      {},
    );
    await pods.delete(NS, p.metadata.name ?? "", {}, {});
    await budget("terminating", { disruptionsAllowed: 0 });
    assert.equal((await evict(p)).status, "Success");
  });

  test("an unready pod goes without spending while the budget is met (IfHealthyBudget, the default)", async () => {
    const p = await pod("unready", { ready: false });
    const b = await budget("unready", { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 });
    assert.equal((await evict(p)).status, "Success");
    assert.ok(await gone(p));
    const after = (await pdbs.get(NS, b.metadata.name ?? "")) as PodDisruptionBudget;
    assert.equal(after.status?.disruptedPods, undefined);

    // Below the budget an unready pod is refused too, unless the policy is AlwaysAllow.
    const q = await pod("unready-low", { ready: false });
    await budget("unready-low", { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3 });
    assert.equal((await refusal(evict(q))).code, 429);
    const r = await pod("unready-always", { ready: false });
    await budget(
      "unready-always",
      { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 3 },
      { minAvailable: 2, unhealthyPodEvictionPolicy: "AlwaysAllow" },
    );
    assert.equal((await evict(r)).status, "Success");
  });

  test("concurrent evictions never spend more than the budget allows", async () => {
    const ps = await Promise.all([pod("race"), pod("race"), pod("race"), pod("race")]);
    const b = await budget("race", { disruptionsAllowed: 2, currentHealthy: 4, desiredHealthy: 2, expectedPods: 4 });
    const results = await Promise.allSettled(ps.map((p) => evict(p)));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) => r.status === "rejected" && (r.reason as StatusError).code === 429).length;
    assert.deepEqual([ok, refused], [2, 2]);
    const after = (await pdbs.get(NS, b.metadata.name ?? "")) as PodDisruptionBudget;
    assert.equal(after.status?.disruptionsAllowed, 0);
    assert.equal(Object.keys(after.status?.disruptedPods ?? {}).length, 2);
  });

  test("dry run checks the budget and changes nothing", async () => {
    const p = await pod("dry");
    const b = await budget("dry", { disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 });
    assert.equal((await evict(p, {}, { dryRun: true })).status, "Success");
    assert.equal(await gone(p), false);
    const after = (await pdbs.get(NS, b.metadata.name ?? "")) as PodDisruptionBudget;
    assert.equal(after.status?.disruptionsAllowed, 1);
    // The body's deleteOptions.dryRun works the same; disagreeing with ?dryRun is a bad request.
    assert.equal((await evict(p, { deleteOptions: { dryRun: ["All"] } })).status, "Success");
    assert.equal(await gone(p), false);
    const err = await refusal(evict(p, { deleteOptions: { dryRun: ["Some"] } }, { dryRun: true }));
    assert.equal(err.code, 400);
  });

  test("a name that differs from the URL's is a bad request", async () => {
    const p = await pod("named");
    const err = await refusal(
      rest.create(NS, p.metadata.name ?? "", { metadata: { name: "other" } } as Eviction, {}, {}),
    );
    assert.equal(err.code, 400);
    assert.equal(err.message, "name in URL does not match name in Eviction object");
  });
});
