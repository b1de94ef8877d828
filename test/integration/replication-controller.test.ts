// ReplicationControllers against the REAL API server (etcd-backed, separate process): what the
// server says of them (defaults, validation messages, table columns, the scale subresource) and
// the ReplicaSet controller's code run over them in-process (create, scale, adopt, release).
// No kubelets and no scheduler: pods stay Pending, enough for counts and ownership.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isInvalid, type StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { EVENTS, PODS, REPLICATIONCONTROLLERS } from "#pkg/api/resources.js";
import { TABLE_ACCEPT } from "#pkg/api/table.js";
import type { ReplicationController } from "#pkg/api/types/core.js";
import type { ApiClient } from "#pkg/client/client.js";
import type { ReplicaSetController } from "../../controller-manager/replicaset/replica-set.js";
import { newReplicationController } from "../../controller-manager/replication/replication-controller.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { activePods, pod, replicationController as rc, waitForPods } from "../harness/objects.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";

async function waitReplicas(client: ApiClient, name: string, n: number): Promise<ReplicationController> {
  return waitFor(
    async () => {
      const obj = await client.get(REPLICATIONCONTROLLERS, NS, name);
      return obj.status?.replicas === n && obj.status.observedGeneration === obj.metadata.generation ? obj : undefined;
    },
    { timeoutMs: 20_000, message: `status.replicas ${n} of replicationcontroller ${name}` },
  );
}

async function invalidMessage(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(isInvalid(err), String(err));
    return (err as StatusError).message;
  }
  assert.fail("expected a 422 Invalid");
}

describe("replicationcontrollers served by the API server", () => {
  let server: TestApiServer | undefined;
  const client = () => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };
  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await closeRawAgents();
    await server?.stop();
  });

  test("defaults: selector and labels from the template, one replica", async () => {
    const created = await client().create(REPLICATIONCONTROLLERS, NS, {
      ...rc("defaults", 1),
      spec: { template: rc("defaults", 1).spec?.template },
    });
    assert.deepEqual(created.spec?.selector, { app: "defaults" });
    assert.deepEqual(created.metadata.labels, { app: "defaults" });
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.metadata.generation, 1);
    assert.deepEqual(created.status, { replicas: 0 });
  });

  test("validation: upstream's messages, nothing stored", async () => {
    const c = client();
    const mismatch = rc("bad", 1);
    (mismatch.spec as NonNullable<ReplicationController["spec"]>).selector = { app: "other" };
    assert.equal(
      await invalidMessage(c.create(REPLICATIONCONTROLLERS, NS, mismatch)),
      'ReplicationController "bad" is invalid: spec.template.metadata.labels: Invalid value: {"app":"bad"}: `selector` does not match template `labels`',
    );
    const unlabeled: ReplicationController = {
      ...rc("bad", -1),
      spec: { replicas: -1, template: { spec: { containers: [{ name: "c", image: "busybox" }] } } },
    };
    assert.equal(
      await invalidMessage(c.create(REPLICATIONCONTROLLERS, NS, unlabeled)),
      'ReplicationController "bad" is invalid: [spec.selector: Required value, spec.replicas: Invalid value: -1: must be greater than or equal to 0]',
    );
    assert.equal(
      await invalidMessage(c.create(REPLICATIONCONTROLLERS, NS, { ...rc("bad", 1), spec: { selector: { app: "x" } } })),
      'ReplicationController "bad" is invalid: spec.template: Required value',
    );
    assert.equal((await c.list(REPLICATIONCONTROLLERS, NS)).items.filter((x) => x.metadata.name === "bad").length, 0);
  });

  test("table columns: NAME DESIRED CURRENT READY AGE, wide CONTAINERS IMAGES SELECTOR", async () => {
    if (!server) throw new Error("API server not started");
    await client().create(REPLICATIONCONTROLLERS, NS, rc("table", 2));
    const t = await raw(server, "GET", `/api/v1/namespaces/${NS}/replicationcontrollers/table`, {
      headers: { accept: TABLE_ACCEPT },
    });
    assert.equal(t.status, 200, t.text);
    assert.deepEqual(
      t.json.columnDefinitions.map((c: { name: string; priority: number }) => `${c.name}:${c.priority}`),
      ["Name:0", "Desired:0", "Current:0", "Ready:0", "Age:0", "Containers:1", "Images:1", "Selector:1"],
    );
    const [name, desired, current, ready, , containers, images, selector] = t.json.rows[0].cells;
    assert.deepEqual(
      [name, desired, current, ready, containers, images, selector],
      ["table", 2, 0, 0, "c", "busybox", "app=table"],
    );
  });

  test("discovery: short name rc, category all, status and scale subresources", async () => {
    if (!server) throw new Error("API server not started");
    const v1 = await raw(server, "GET", "/api/v1");
    const names = v1.json.resources.map((r: { name: string }) => r.name);
    for (const n of ["replicationcontrollers", "replicationcontrollers/status", "replicationcontrollers/scale"])
      assert.ok(names.includes(n), n);
    const main = v1.json.resources.find((r: { name: string }) => r.name === "replicationcontrollers");
    assert.deepEqual(main.shortNames, ["rc"]);
    assert.deepEqual(main.categories, ["all"]);
    assert.equal(main.namespaced, true);
    assert.equal(main.kind, "ReplicationController");
  });
});

describe("the ReplicaSet controller's code over ReplicationControllers, against a real API server", () => {
  let server: TestApiServer | undefined;
  let running: RunningController<ReplicaSetController<ReplicationController>> | undefined;
  const client = () => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };

  before(async () => {
    server = await startApiServer();
    // The controller manager's own table entry, not a test-built controller.
    running = runController(
      server,
      (ctx) => newReplicationController(ctx) as ReplicaSetController<ReplicationController>,
    );
  });
  after(async () => {
    await running?.stop();
    await server?.stop();
  });

  test("creates owned pods, scales through the scale subresource 2 -> 4 -> 1, reports status and events", async () => {
    const c = client();
    const created = await c.create(REPLICATIONCONTROLLERS, NS, rc("web", 2));
    const pods = await waitForPods(c, "web", 2);
    for (const p of pods) {
      assert.ok(p.metadata.name?.startsWith("web-"), p.metadata.name);
      assert.deepEqual(p.metadata.ownerReferences, [
        {
          apiVersion: "v1",
          kind: "ReplicationController",
          name: "web",
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const st = await waitReplicas(c, "web", 2);
    assert.equal(st.status?.fullyLabeledReplicas, 2);

    const scale = (await c.patch(REPLICATIONCONTROLLERS, NS, "web", { spec: { replicas: 4 } }, "merge", {
      subresource: "scale",
    })) as unknown as KubeObject & { spec: { replicas: number }; status: { selector: string } };
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.apiVersion, "autoscaling/v1");
    assert.equal(scale.spec.replicas, 4);
    assert.equal(scale.status.selector, "app=web");
    await waitForPods(c, "web", 4);
    await waitReplicas(c, "web", 4);

    await c.patch(REPLICATIONCONTROLLERS, NS, "web", { spec: { replicas: 1 } }, "merge", { subresource: "scale" });
    await waitForPods(c, "web", 1);
    await waitReplicas(c, "web", 1);
    // Settled (nothing queued, every create and delete observed): still exactly one.
    await waitFor(
      () => {
        const ctl = running?.controller;
        return (
          ctl && ctl.queue.length === 0 && ctl.queue.processingCount === 0 && ctl.expectations.satisfied(`${NS}/web`)
        );
      },
      { message: "the replicationcontroller controller to settle" },
    );
    assert.equal((await activePods(c, "web")).length, 1);

    const events = await waitFor(
      async () => {
        const evs = (await c.list(EVENTS, NS)).items.filter(
          (e) => e.involvedObject?.kind === "ReplicationController" && e.involvedObject.name === "web",
        );
        const reasons = new Set(evs.map((e) => e.reason));
        return reasons.has("SuccessfulCreate") && reasons.has("SuccessfulDelete") ? evs : undefined;
      },
      { timeoutMs: 20_000, message: "SuccessfulCreate and SuccessfulDelete events" },
    );
    for (const e of events) assert.equal(e.source?.component, "replication-controller");
  });

  test("adopts a matching orphan and releases a pod relabeled away", async () => {
    const c = client();
    await c.create(PODS, NS, pod("db-orphan", { app: "db", command: null }));
    const owner = await c.create(REPLICATIONCONTROLLERS, NS, rc("db", 2));
    const pods = await waitForPods(c, "db", 2);
    assert.ok(pods.some((p) => p.metadata.name === "db-orphan"));
    const adopted = await waitFor(
      async () => {
        const p = await c.get(PODS, NS, "db-orphan");
        return p.metadata.ownerReferences?.[0]?.uid === owner.metadata.uid ? p : undefined;
      },
      { timeoutMs: 20_000, message: "the orphan adopted" },
    );
    assert.equal(adopted.metadata.ownerReferences?.[0]?.kind, "ReplicationController");
    assert.equal(adopted.metadata.ownerReferences?.[0]?.controller, true);

    await c.patch(PODS, NS, "db-orphan", { metadata: { labels: { app: "elsewhere" } } }, "merge");
    await waitFor(async () => ((await c.get(PODS, NS, "db-orphan")).metadata.ownerReferences ?? []).length === 0, {
      timeoutMs: 20_000,
      message: "the relabeled pod released",
    });
    await waitForPods(c, "db", 2);
    await waitReplicas(c, "db", 2);
  });

  test("a changed selector (allowed for an RC) takes the pods it now matches", async () => {
    const c = client();
    await c.create(REPLICATIONCONTROLLERS, NS, rc("sel", 1));
    await waitForPods(c, "sel", 1);
    await waitReplicas(c, "sel", 1);
    const cur = await c.get(REPLICATIONCONTROLLERS, NS, "sel");
    const next = structuredClone(cur);
    const spec = next.spec as NonNullable<ReplicationController["spec"]>;
    spec.selector = { app: "sel", v: "2" };
    if (spec.template?.metadata) spec.template.metadata.labels = { app: "sel", v: "2" };
    await c.update(REPLICATIONCONTROLLERS, NS, next);
    // The old pod no longer matches: released, and one with the new labels created.
    const fresh = await waitFor(
      async () => {
        const list = await c.list(PODS, NS, { labelSelector: "app=sel,v=2" });
        return list.items.length === 1 ? list.items[0] : undefined;
      },
      { timeoutMs: 20_000, message: "a pod with the new labels" },
    );
    assert.equal(fresh?.metadata.ownerReferences?.[0]?.kind, "ReplicationController");
    await waitFor(
      async () => {
        const list = await c.list(PODS, NS, { labelSelector: "app=sel,!v" });
        return list.items.length === 1 && (list.items[0]?.metadata.ownerReferences ?? []).length === 0;
      },
      { timeoutMs: 20_000, message: "the old pod released" },
    );
  });
});
