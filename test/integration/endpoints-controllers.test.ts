// The Endpoints and EndpointSlice controllers in a real kubeling-controller-manager (under its
// own identity, so under the bootstrap RBAC roles) against a real API server and etcd. No
// kubelet runs: pods are bound to a node by name and their IPs and readiness are written through
// the status subresource, as a kubelet would; the Endpoints and slices are watched, never
// polled, and must follow a readiness change within a second.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ENDPOINTS, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Pod, Service } from "#pkg/api/types/core.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { pod as podOf, setPodRunningReady } from "../harness/objects.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
let srv: TestApiServer;
let cm: TestControllerManager;
let kc: Kubectl;

/** A pod on node-1 whose container names port `http` (at httpPort). */
function webPod(name: string, httpPort: number, app = "web"): Pod {
  const p = podOf(name, { app, nodeName: "node-1" });
  const c = p.spec?.containers[0];
  if (c) c.ports = [{ name: "http", containerPort: httpPort, protocol: "TCP" }];
  return p;
}

async function startPod(name: string, httpPort: number, ip: string, ready = true, app = "web"): Promise<Pod> {
  const created = await srv.client.create<Pod>(PODS, NS, webPod(name, httpPort, app));
  return setPodRunningReady(srv.client, created, { podIP: ip, ready });
}

/** Flips a pod's readiness through pods/status. */
async function setReady(name: string, ready: boolean): Promise<void> {
  const p = await srv.client.get<Pod>(PODS, NS, name);
  await setPodRunningReady(srv.client, p, { ready });
}

const addressesOf = (ep: Endpoints | undefined) => ({
  ready: (ep?.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => `${a.ip}:${s.ports?.[0]?.port}`)).sort(),
  notReady: (ep?.subsets ?? [])
    .flatMap((s) => (s.notReadyAddresses ?? []).map((a) => `${a.ip}:${s.ports?.[0]?.port}`))
    .sort(),
});

/** Waits (watching) until the Endpoints `name` hold exactly these addresses; returns them and how long it took. */
async function endpointsBecome(name: string, want: { ready: string[]; notReady: string[] }, timeoutMs = 10_000) {
  const start = Date.now();
  const [ep] = await watchUntil(
    srv.client,
    ENDPOINTS,
    NS,
    ([e]) =>
      JSON.stringify(addressesOf(e)) ===
      JSON.stringify({ ready: [...want.ready].sort(), notReady: [...want.notReady].sort() }),
    { name, timeoutMs, message: `endpoints ${JSON.stringify(want)}` },
  );
  return { ep: ep as Endpoints, ms: Date.now() - start };
}

before(async () => {
  srv = await startApiServer();
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: ["--leader-elect=false", "--controllers=endpoints-controller"],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await cm?.stop();
  await srv?.stop();
});

describe("the Endpoints controller", () => {
  test("ready pods in addresses, not-ready in notReadyAddresses, the named port resolved per pod", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", labels: { tier: "front" } },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    await startPod("web-a", 8080, "10.244.1.1");
    await startPod("web-b", 8081, "10.244.1.2");
    await startPod("web-c", 8082, "10.244.1.3", false);
    const { ep } = await endpointsBecome("web", {
      ready: ["10.244.1.1:8080", "10.244.1.2:8081"],
      notReady: ["10.244.1.3:8082"],
    });
    assert.deepEqual(ep.metadata.labels, { tier: "front" });
    assert.match(ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"] ?? "", /^\d{4}-.*Z$/);
    const a = ep.subsets?.flatMap((s) => s.addresses ?? []).find((x) => x.ip === "10.244.1.1");
    assert.equal(a?.nodeName, "node-1");
    assert.deepEqual(a?.targetRef && { kind: a.targetRef.kind, name: a.targetRef.name }, {
      kind: "Pod",
      name: "web-a",
    });
  });

  test("a readiness change shows within a second, both ways", async () => {
    await setReady("web-c", true);
    const up = await endpointsBecome(
      "web",
      { ready: ["10.244.1.1:8080", "10.244.1.2:8081", "10.244.1.3:8082"], notReady: [] },
      1000,
    );
    await setReady("web-a", false);
    const down = await endpointsBecome(
      "web",
      { ready: ["10.244.1.2:8081", "10.244.1.3:8082"], notReady: ["10.244.1.1:8080"] },
      1000,
    );
    assert.ok(up.ms < 1000 && down.ms < 1000, `${up.ms} ms, ${down.ms} ms`);
  });

  test("a terminating pod leaves; publishNotReadyAddresses lists the not-ready ones as addresses", async () => {
    // No kubelet confirms the deletion: the pod stays, terminating.
    await srv.client.delete(PODS, NS, "web-b", { gracePeriodSeconds: 30 });
    await endpointsBecome("web", { ready: ["10.244.1.3:8082"], notReady: ["10.244.1.1:8080"] });
    await srv.client.patch(SERVICES, NS, "web", { spec: { publishNotReadyAddresses: true } }, "merge");
    await endpointsBecome("web", { ready: ["10.244.1.1:8080", "10.244.1.2:8081", "10.244.1.3:8082"], notReady: [] });
    await srv.client.patch(SERVICES, NS, "web", { spec: { publishNotReadyAddresses: null } }, "merge");
    await endpointsBecome("web", { ready: ["10.244.1.3:8082"], notReady: ["10.244.1.1:8080"] });
  });

  test("a Service without a selector keeps the Endpoints its user wrote; a deleted Service's Endpoints go", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "external" },
      spec: { ports: [{ port: 5432 }] },
    });
    await srv.client.create<Endpoints>(ENDPOINTS, NS, {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external" },
      subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 5432 }] }],
    });
    // A pod labelled like nothing of it changes nothing; the Endpoints stay as written.
    await startPod("stray", 9999, "10.244.1.9", true, "external");
    await srv.client.patch(SERVICES, NS, "external", { metadata: { labels: { touched: "yes" } } }, "merge");
    await endpointsBecome("web", { ready: ["10.244.1.3:8082"], notReady: ["10.244.1.1:8080"] });
    const ep = await srv.client.get<Endpoints>(ENDPOINTS, NS, "external");
    assert.deepEqual(addressesOf(ep), { ready: ["192.0.2.10:5432"], notReady: [] });
    assert.equal(ep.metadata.labels, undefined);

    await srv.client.delete(SERVICES, NS, "web");
    await watchUntil(srv.client, ENDPOINTS, NS, (eps) => eps.length === 0, {
      name: "web",
      message: "web's Endpoints gone",
    });
  });

  test("kubectl get endpoints: NAME ENDPOINTS AGE", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web2" },
      spec: { selector: { app: "web2" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await startPod("web2-a", 8080, "10.244.2.1", true, "web2");
    await endpointsBecome("web2", { ready: ["10.244.2.1:8080"], notReady: [] });
    const out = await kc.ok(["get", "endpoints", "web2"]);
    const [head, row] = out.trim().split("\n");
    assert.match(head ?? "", /^NAME\s+ENDPOINTS\s+AGE$/);
    assert.match(row ?? "", /^web2\s+10\.244\.2\.1:8080\s+\S+$/);
  });
});
