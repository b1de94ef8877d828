import assert from "node:assert/strict";
import { test } from "node:test";
import { LEASES, NAMESPACES, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import { microTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/index.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../test/harness/wait.js";
import { ControllerManagerApp, LEASE_NAME, LEASE_NAMESPACE } from "./app.js";
import type { Controller, ControllerContext } from "./controller.js";
import { CONTROLLERS } from "./controllers.js";

test("run: a shutdown before run ends it", async () => {
  const app = new ControllerManagerApp({ client: new FakeClient(), controllers: ["serviceaccount"] });
  assert.equal(await app.run(AbortSignal.abort()), "stopped");
});

test("an unknown controller is refused at construction", () => {
  assert.throws(
    () => new ControllerManagerApp({ client: new FakeClient(), controllers: ["nope"] }),
    /unknown controller/,
  );
});

test("the leader builds the controllers, starts the informers after they registered, and runs them", async () => {
  const client = new FakeClient();
  client.seed(NAMESPACES, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "ns" },
    status: { phase: "Active" },
  });
  let built = 0;
  let ranWith = 0;
  let busyWith = 0;
  const busy = (): Controller => ({
    name: "busy",
    run: async (signal, workers) => {
      busyWith = workers;
      await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
    },
  });
  const probe = (ctx: ControllerContext): Controller => {
    built++;
    const seen: string[] = [];
    ctx.informers.informer(NAMESPACES).on("add", (ns) => seen.push(ns.metadata.name ?? ""));
    return {
      name: "probe",
      run: async (signal, workers) => {
        ranWith = workers;
        assert.deepEqual(seen, ["ns"], "handlers registered before the informers started saw the first list");
        await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
      },
    };
  };
  const app = new ControllerManagerApp({
    client,
    controllers: ["serviceaccount", "probe", "busy"],
    table: { ...CONTROLLERS, probe, busy },
    workers: 3,
    workersOf: { busy: 7 },
    identity: "me",
    retryPeriodSeconds: 0.05,
    renewDeadlineSeconds: 0.5,
    leaseDurationSeconds: 1,
  });
  const ac = new AbortController();
  const run = app.run(ac.signal);
  await waitFor(() => client.object(SERVICEACCOUNTS, "ns", "default") !== undefined, { timeoutMs: 5_000 });
  assert.ok(app.isLeader());
  assert.ok(app.hasSynced());
  assert.equal(client.object<Lease>(LEASES, LEASE_NAMESPACE, LEASE_NAME)?.spec?.holderIdentity, "me");
  assert.match(await app.registry.metrics(), /leader_election_master_status\{name="kube-controller-manager"\} 1/);
  assert.equal(built, 1);
  assert.equal(ranWith, 3);
  await waitFor(() => busyWith === 7, { timeoutMs: 5_000, message: "busy runs its own --concurrent-*-syncs" });
  ac.abort();
  assert.equal(await run, "stopped");
  assert.ok(!app.isLeader());
  assert.ok(!client.object<Lease>(LEASES, LEASE_NAMESPACE, LEASE_NAME)?.spec?.holderIdentity, "released on shutdown");
});

test("a standby builds nothing and is ready", async () => {
  const client = new FakeClient();
  client.seed(LEASES, {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: LEASE_NAME, namespace: LEASE_NAMESPACE },
    spec: { holderIdentity: "other", leaseDurationSeconds: 3600, renewTime: microTime() },
  } as Lease);
  let built = 0;
  const app = new ControllerManagerApp({
    client,
    controllers: ["x"],
    table: {
      x: () => {
        built++;
        return { name: "x", run: async () => {} };
      },
    },
    retryPeriodSeconds: 0.05,
    renewDeadlineSeconds: 0.5,
    leaseDurationSeconds: 1,
  });
  const ac = new AbortController();
  const run = app.run(ac.signal);
  await waitFor(() => client.actionsOf("get", LEASES).length >= 2, { timeoutMs: 5_000 });
  assert.ok(!app.isLeader());
  assert.ok(app.hasSynced());
  assert.equal(built, 0);
  ac.abort();
  assert.equal(await run, "stopped");
});

test("a leader whose Lease is taken over stops its controllers and reports lost-leadership", async () => {
  const client = new FakeClient();
  let stopped = false;
  const app = new ControllerManagerApp({
    client,
    controllers: ["x"],
    table: {
      x: () => ({
        name: "x",
        run: async (signal) => {
          await new Promise((r) => signal.addEventListener("abort", r, { once: true }));
          stopped = true;
        },
      }),
    },
    identity: "me",
    retryPeriodSeconds: 0.05,
    renewDeadlineSeconds: 0.5,
    leaseDurationSeconds: 1,
  });
  const ac = new AbortController();
  const run = app.run(ac.signal);
  await waitFor(() => app.isLeader(), { timeoutMs: 5_000 });
  const lease = client.object<Lease>(LEASES, LEASE_NAMESPACE, LEASE_NAME) as Lease;
  await client.update(LEASES, LEASE_NAMESPACE, {
    ...lease,
    spec: { ...lease.spec, holderIdentity: "other", renewTime: microTime(), leaseDurationSeconds: 3600 },
  });
  assert.equal(await run, "lost-leadership");
  assert.ok(stopped, "the controllers' signal aborted");
  assert.ok(!app.isLeader());
  ac.abort();
});
