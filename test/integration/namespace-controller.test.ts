// The Namespace controller against the REAL API server (etcd-backed, separate process), run
// in-process on a ControllerContext built here from pkg/ pieces. No kubelets: the pod stays Pending
// (unbound, so its delete is immediate). A finalizer on the ConfigMap holds the namespace in
// Terminating long enough to check, without a race, that creates are refused and that the
// status conditions name what remains; removing it lets the controller finish.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound, isStatusError } from "#pkg/api/errors.js";
import { CONFIGMAPS, NAMESPACES, PODS, type ResourceInfo, SECRETS, SERVICES } from "#pkg/api/resources.js";
import type { Namespace } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { NamespaceController } from "../../controller-manager/namespace/namespace-controller.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { waitFor } from "../harness/wait.js";

const NS = "doomed";
const HOLD = "example.com/hold";

async function gone(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

function condition(ns: Namespace, type: string) {
  return ns.status?.conditions?.find((c) => c.type === type);
}

describe("namespace controller against a real API server", () => {
  let server: TestApiServer | undefined;
  let running: RunningController<NamespaceController> | undefined;
  const client = (): ApiClient => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };

  before(async () => {
    server = await startApiServer();
    running = runController(server, (ctx) => new NamespaceController(ctx));
  });
  after(async () => {
    await running?.stop();
    await server?.stop();
  });

  test("a deleted namespace is emptied, then removed", async () => {
    const c = client();
    await c.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await c.create(CONFIGMAPS, NS, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", finalizers: [HOLD] },
      data: { a: "1" },
    });
    await c.create(SECRETS, NS, { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { k: "v" } });
    await c.create(PODS, NS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "busybox", command: ["sleep", "3600"] }] },
    });
    await c.create(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "svc" },
      spec: { selector: { app: "x" }, ports: [{ port: 80 }] },
    });

    await c.delete(NAMESPACES, undefined, NS);

    // The held ConfigMap keeps the namespace Terminating, with conditions saying why.
    const held = await waitFor(
      async () => {
        const ns = await c.get(NAMESPACES, undefined, NS);
        return condition(ns, "NamespaceFinalizersRemaining")?.status === "True" ? ns : undefined;
      },
      { timeoutMs: 20_000, message: "NamespaceFinalizersRemaining True" },
    );
    assert.equal(held.status?.phase, "Terminating");
    assert.deepEqual(held.spec?.finalizers, ["kubernetes"]);
    const remaining = condition(held, "NamespaceContentRemaining");
    assert.equal(remaining?.status, "True");
    assert.equal(remaining?.reason, "SomeResourcesRemain");
    assert.match(remaining?.message ?? "", /configmaps has 1 resource instances/);
    const fin = condition(held, "NamespaceFinalizersRemaining");
    assert.equal(fin?.reason, "SomeFinalizersRemain");
    assert.match(fin?.message ?? "", new RegExp(`${HOLD} in 1 resource instances`));
    assert.equal(condition(held, "NamespaceDeletionDiscoveryFailure")?.status, "False");
    assert.equal(condition(held, "NamespaceDeletionContentFailure")?.status, "False");

    // Everything without a finalizer is already gone.
    assert.ok(await gone(() => c.get(SECRETS, NS, "s")), "secret deleted");
    assert.ok(await gone(() => c.get(PODS, NS, "p")), "pod deleted");
    assert.ok(await gone(() => c.get(SERVICES, NS, "svc")), "service deleted");
    assert.ok((await c.get(CONFIGMAPS, NS, "cfg")).metadata.deletionTimestamp, "configmap terminating");

    // NamespaceLifecycle refuses new content while the namespace is terminating.
    await assert.rejects(
      c.create(CONFIGMAPS, NS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late" } }),
      (err: unknown) => isStatusError(err) && err.code === 403 && /being terminated/.test(err.message),
    );

    // Release the hold: the ConfigMap goes, the controller finalizes, the namespace is removed.
    await c.patch(CONFIGMAPS, NS, "cfg", { metadata: { finalizers: null } }, "merge");
    await waitFor(() => gone(() => c.get(NAMESPACES, undefined, NS)), {
      timeoutMs: 20_000,
      message: `namespace ${NS} removed`,
    });
    assert.ok(await gone(() => c.get(CONFIGMAPS, NS, "cfg")), "configmap deleted");
    for (const r of [CONFIGMAPS, SECRETS, PODS, SERVICES] as ResourceInfo[]) {
      assert.equal((await c.list(r, NS)).items.length, 0, `no ${r.resource} left in ${NS}`);
    }
  });
});
