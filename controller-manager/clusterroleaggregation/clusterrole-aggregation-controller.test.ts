import assert from "node:assert/strict";
import { test } from "node:test";
import { CLUSTERROLES } from "#pkg/api/resources.js";
import type { ClusterRole } from "#pkg/api/types/rbac.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { realClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../test/harness/wait.js";
import type { ControllerContext } from "../controller.js";
import { aggregatedRules, ClusterRoleAggregationController } from "./clusterrole-aggregation-controller.js";

const role = (name: string, o: Partial<ClusterRole> = {}, labels?: Record<string, string>): ClusterRole => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name, ...(labels ? { labels } : {}) },
  ...o,
});
const get = { verbs: ["get"], apiGroups: [""], resources: ["pods"] };
const list = { verbs: ["list"], apiGroups: [""], resources: ["pods"] };
const agg = (label: string) => ({ aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [label]: "true" } }] } });

test("aggregatedRules: matched roles by name, itself excluded, duplicates once", () => {
  const view = role("view", agg("v"), { v: "true" });
  const all = [
    view,
    role("b", { rules: [list, get] }, { v: "true" }),
    role("a", { rules: [get] }, { v: "true" }),
    role("c", { rules: [list] }),
  ];
  assert.deepEqual(aggregatedRules(view, all), [get, list]);
});

test("the controller keeps aggregated roles' rules in step with the roles they select", async (t) => {
  const client = new FakeClient();
  client.seed(CLUSTERROLES, role("view", agg("v")), role("pods-get", { rules: [get] }, { v: "true" }));
  const informers = new InformerFactory(client);
  const ctx: ControllerContext = {
    client,
    informers,
    recorder: (component) => new EventRecorder(client, { component }),
    metrics: newRegistry({ processMetrics: false }),
    log: silentLogger,
    clock: realClock,
  };
  const c = new ClusterRoleAggregationController(ctx);
  const ac = new AbortController();
  informers.start(ac.signal);
  await informers.waitForSync();
  const running = c.run(ac.signal, 1);
  t.after(async () => {
    ac.abort();
    await running;
    await informers.stopped();
  });
  const rulesOf = () => client.object<ClusterRole>(CLUSTERROLES, undefined, "view")?.rules;
  await waitFor(() => JSON.stringify(rulesOf()) === JSON.stringify([get]));
  await client.create(CLUSTERROLES, undefined, role("pods-list", { rules: [list] }, { v: "true" }));
  await waitFor(() => JSON.stringify(rulesOf()) === JSON.stringify([get, list]));
  await client.delete(CLUSTERROLES, undefined, "pods-get");
  await waitFor(() => JSON.stringify(rulesOf()) === JSON.stringify([list]));
});
