import assert from "node:assert/strict";
import { test } from "node:test";
import { DEPLOYMENTS, PODS, RESOURCEQUOTAS } from "#pkg/api/resources.js";
import type { Pod, ResourceQuota } from "#pkg/api/types/index.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { parseResourceList } from "#pkg/quota/resources.js";
import { realClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../test/harness/wait.js";
import type { ControllerContext } from "../controller.js";
import { quotaStatus, ResourceQuotaController } from "./resource-quota-controller.js";

const quota = (name: string, hard: Record<string, string>): ResourceQuota => ({
  apiVersion: "v1",
  kind: "ResourceQuota",
  metadata: { name, namespace: "ns" },
  spec: { hard },
});

const pod = (name: string, cpu: string, phase = "Running"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns" },
  spec: { containers: [{ name: "c", resources: { requests: { cpu } } }] },
  status: { phase },
});

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
  const c = new ResourceQuotaController(ctx);
  const ac = new AbortController();
  informers.start(ac.signal);
  await informers.waitForSync();
  const running = c.run(ac.signal, 2);
  return {
    stop: async () => {
      ac.abort();
      await running;
      await informers.stopped();
    },
  };
}

const statusOf = (client: FakeClient, name: string) => client.object<ResourceQuota>(RESOURCEQUOTAS, "ns", name)?.status;

test("quotaStatus: hard from spec, used masked to it, dirty only on change", () => {
  const q: ResourceQuota = {
    ...quota("q", { pods: "2" }),
    status: { hard: { pods: "2" }, used: { pods: "1", cpu: "1" } },
  };
  const s = quotaStatus(q, parseResourceList({ pods: "1" }));
  assert.deepEqual(s, { hard: { pods: "2" }, used: { pods: "1" }, dirty: true });
  const clean: ResourceQuota = { ...quota("q", { pods: "2" }), status: { hard: { pods: "2" }, used: { pods: "1" } } };
  assert.equal(quotaStatus(clean, parseResourceList({ pods: "1" })).dirty, false);
});

test("a new quota gets status.hard and the namespace's usage; deletes and finished pods give usage back", async (t) => {
  const client = new FakeClient();
  client.seed(PODS, pod("a", "500m"), pod("b", "250m"), pod("done", "1", "Succeeded"));
  client.seed(RESOURCEQUOTAS, quota("compute", { pods: "10", "requests.cpu": "2", "count/pods": "10" }));
  const { stop } = await start(client);
  t.after(stop);
  await waitFor(() => statusOf(client, "compute")?.used?.pods === "2");
  assert.deepEqual(statusOf(client, "compute"), {
    hard: { "count/pods": "10", pods: "10", "requests.cpu": "2" },
    used: { "count/pods": "3", pods: "2", "requests.cpu": "750m" },
  });
  await client.delete(PODS, "ns", "a");
  await waitFor(() => statusOf(client, "compute")?.used?.["requests.cpu"] === "250m");
  const b = client.object<Pod>(PODS, "ns", "b") as Pod;
  await client.update(PODS, "ns", { ...b, status: { phase: "Failed" } }, { subresource: "status" });
  await waitFor(() => statusOf(client, "compute")?.used?.pods === "0");
  assert.equal(statusOf(client, "compute")?.used?.["count/pods"], "2", "finished pods still count as objects");
});

test("object counts of other kinds get a monitor when a quota names them", async (t) => {
  const client = new FakeClient();
  const deploy = (name: string) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "ns" },
    spec: {},
  });
  client.seed(DEPLOYMENTS, deploy("d1"), deploy("d2"));
  const { stop } = await start(client);
  t.after(stop);
  await client.create(RESOURCEQUOTAS, "ns", quota("objects", { "count/deployments.apps": "5" }));
  await waitFor(() => statusOf(client, "objects")?.used?.["count/deployments.apps"] === "2");
  await client.delete(DEPLOYMENTS, "ns", "d1");
  await waitFor(() => statusOf(client, "objects")?.used?.["count/deployments.apps"] === "1");
  // A changed spec.hard is picked up at once.
  const q = client.object<ResourceQuota>(RESOURCEQUOTAS, "ns", "objects") as ResourceQuota;
  await client.update(RESOURCEQUOTAS, "ns", { ...q, spec: { hard: { "count/deployments.apps": "1" } } });
  await waitFor(() => statusOf(client, "objects")?.hard?.["count/deployments.apps"] === "1");
});
