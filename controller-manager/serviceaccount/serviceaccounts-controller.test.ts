import assert from "node:assert/strict";
import { test } from "node:test";
import { NAMESPACES, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Namespace, ServiceAccount } from "#pkg/api/types/index.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { realClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../test/harness/wait.js";
import type { ControllerContext } from "../controller.js";
import { ServiceAccountsController } from "./serviceaccounts-controller.js";

function namespace(name: string, phase = "Active"): Namespace {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name }, status: { phase } };
}

/** A controller on real informers over a FakeClient, running until the test's end. */
async function start(client: FakeClient) {
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder(client, { component }),
    metrics: newRegistry({ processMetrics: false }),
    log: silentLogger,
    clock: realClock,
  };
  const c = new ServiceAccountsController(ctx);
  const ac = new AbortController();
  informers.start(ac.signal);
  await informers.waitForSync();
  const running = c.run(ac.signal, 2);
  return {
    c,
    stop: async () => {
      ac.abort();
      await running;
      await informers.stopped();
    },
  };
}

const account = (client: FakeClient, ns: string) => client.object<ServiceAccount>(SERVICEACCOUNTS, ns, "default");

test("every active namespace gets its default ServiceAccount; terminating ones do not", async (t) => {
  const client = new FakeClient();
  client.seed(NAMESPACES, namespace("kube-system"), namespace("going", "Terminating"));
  const { stop } = await start(client);
  t.after(stop);
  await waitFor(() => account(client, "kube-system") !== undefined);
  await client.create(NAMESPACES, undefined, namespace("new"));
  await waitFor(() => account(client, "new") !== undefined);
  assert.equal(account(client, "going"), undefined);
  assert.equal(client.actionsOf("create", SERVICEACCOUNTS).length, 2);
});

test("a deleted default ServiceAccount is created again; an existing one is left alone", async (t) => {
  const client = new FakeClient();
  client.seed(NAMESPACES, namespace("a"), namespace("b"));
  client.seed(SERVICEACCOUNTS, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default", namespace: "b", uid: "kept" },
  } as ServiceAccount);
  const { stop } = await start(client);
  t.after(stop);
  await waitFor(() => account(client, "a") !== undefined);
  const first = account(client, "a")?.metadata.uid;
  await client.delete(SERVICEACCOUNTS, "a", "default");
  await waitFor(() => {
    const sa = account(client, "a");
    return sa !== undefined && sa.metadata.uid !== first;
  });
  assert.equal(account(client, "b")?.metadata.uid, "kept");
  assert.deepEqual(
    client.actionsOf("create", SERVICEACCOUNTS).map((a) => a.namespace),
    ["a", "a"],
  );
});

test("sync: an AlreadyExists from a cache behind the server is success", async (t) => {
  const client = new FakeClient();
  client.seed(NAMESPACES, namespace("x"));
  const { c, stop } = await start(client);
  t.after(stop);
  await waitFor(() => account(client, "x") !== undefined);
  // The cache may not have seen it yet at this instant; the create it makes then answers AlreadyExists.
  await c.sync("x");
  await c.sync("missing");
});
