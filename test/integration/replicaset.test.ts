// The ReplicaSet controller against the REAL API server (etcd-backed, separate process), run
// in-process on a ControllerContext built here from pkg/ pieces. No kubelets and no scheduler:
// pods stay Pending, which is enough to check counts, ownership, adoption, release and status.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVENTS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { ReplicaSet } from "#pkg/api/types/apps.js";
import type { Event } from "#pkg/api/types/core.js";
import type { ApiClient } from "#pkg/client/client.js";
import { REPLICA_SET_KIND, ReplicaSetController } from "../../controller-manager/replicaset/replica-set.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { activePods, pod, replicaSet, waitForPods } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";

async function waitStatus(client: ApiClient, name: string, ok: (rs: ReplicaSet) => boolean): Promise<ReplicaSet> {
  return waitFor(
    async () => {
      const rs = await client.get(REPLICASETS, NS, name);
      return ok(rs) ? rs : undefined;
    },
    { timeoutMs: 20_000, message: `status of replicaset ${name}` },
  );
}

describe("replicaset controller against a real API server", () => {
  let server: TestApiServer | undefined;
  let running: RunningController<ReplicaSetController> | undefined;
  const client = () => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };

  before(async () => {
    server = await startApiServer();
    running = runController(server, (ctx) => new ReplicaSetController(ctx, REPLICA_SET_KIND));
  });
  after(async () => {
    await running?.stop();
    await server?.stop();
  });

  test("creates owned pods, scales 3 -> 5 -> 1, and reports status", async () => {
    const c = client();
    const created = await c.create(REPLICASETS, NS, replicaSet("web", 3));
    const pods = await waitForPods(c, "web", 3);
    for (const p of pods) {
      assert.ok(p.metadata.name?.startsWith("web-"), p.metadata.name);
      assert.deepEqual(p.metadata.ownerReferences, [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: "web",
          uid: created.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      assert.equal(p.status?.phase, "Pending");
    }
    const rs = await waitStatus(c, "web", (x) => x.status?.replicas === 3);
    assert.equal(rs.status?.observedGeneration, rs.metadata.generation);
    assert.equal(rs.status?.fullyLabeledReplicas, 3);
    assert.equal(rs.status?.readyReplicas ?? 0, 0);

    await c.patch(REPLICASETS, NS, "web", { spec: { replicas: 5 } }, "merge");
    await waitForPods(c, "web", 5);
    const scaled = await waitStatus(c, "web", (x) => x.status?.replicas === 5);
    assert.equal(scaled.status?.observedGeneration, scaled.metadata.generation);

    await c.patch(REPLICASETS, NS, "web", { spec: { replicas: 1 } }, "merge");
    await waitForPods(c, "web", 1);
    const down = await waitStatus(c, "web", (x) => x.status?.replicas === 1);
    assert.equal(down.status?.observedGeneration, down.metadata.generation);
    // Never more than asked for: no double creates on the way. Once the controller has settled
    // (nothing queued or syncing, every create and delete it made observed), count again.
    await waitFor(
      () => {
        const ctl = running?.controller;
        return (
          ctl && ctl.queue.length === 0 && ctl.queue.processingCount === 0 && ctl.expectations.satisfied(`${NS}/web`)
        );
      },
      { message: "the replicaset controller to settle" },
    );
    assert.equal((await activePods(c, "web")).length, 1);

    // Events are written in the background: wait for both kinds.
    const events = await waitFor(
      async () => {
        const evs = (await c.list(EVENTS, NS)).items.filter((e: Event) => e.involvedObject?.name === "web");
        const reasons = new Set(evs.map((e) => e.reason));
        return reasons.has("SuccessfulCreate") && reasons.has("SuccessfulDelete") ? evs : undefined;
      },
      { timeoutMs: 20_000, message: "SuccessfulCreate and SuccessfulDelete events" },
    );
    for (const e of events) assert.equal(e.source?.component, "replicaset-controller");
  });

  test("a deleted pod is replaced", async () => {
    const c = client();
    await c.create(REPLICASETS, NS, replicaSet("api", 2));
    const [victim] = await waitForPods(c, "api", 2);
    await c.delete(PODS, NS, victim?.metadata.name ?? "");
    const pods = await waitFor(
      async () => {
        const ps = await activePods(c, "api");
        return ps.length === 2 && !ps.some((p) => p.metadata.name === victim?.metadata.name) ? ps : undefined;
      },
      { timeoutMs: 20_000, message: "the deleted pod replaced" },
    );
    assert.equal(pods.length, 2);
  });

  test("adopts a matching orphan and releases a pod relabeled away", async () => {
    const c = client();
    await c.create(PODS, NS, pod("db-orphan", { app: "db", command: null }));
    const rs = await c.create(REPLICASETS, NS, replicaSet("db", 2));
    const pods = await waitForPods(c, "db", 2);
    const orphan = await waitFor(
      async () => {
        const p = await c.get(PODS, NS, "db-orphan");
        return p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid ? p : undefined;
      },
      { timeoutMs: 20_000, message: "the orphan adopted" },
    );
    assert.equal(orphan.metadata.ownerReferences?.[0]?.controller, true);
    assert.ok(pods.some((p) => p.metadata.name === "db-orphan"));

    // Relabel the adopted pod away: it is released and replaced.
    await c.patch(PODS, NS, "db-orphan", { metadata: { labels: { app: "elsewhere" } } }, "merge");
    await waitFor(
      async () => {
        const p = await c.get(PODS, NS, "db-orphan");
        return (p.metadata.ownerReferences ?? []).length === 0;
      },
      { timeoutMs: 20_000, message: "the relabeled pod released" },
    );
    await waitForPods(c, "db", 2);
    await waitStatus(c, "db", (x) => x.status?.replicas === 2);
  });
});
