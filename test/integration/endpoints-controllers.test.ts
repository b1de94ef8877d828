// The Endpoints and EndpointSlice controllers in a real kubeling-controller-manager (under its
// own identity, so under the bootstrap RBAC roles) against a real API server and etcd. No
// kubelet runs: pods are bound to a node by name and their IPs and readiness are written through
// the status subresource, as a kubelet would; the Endpoints and slices are watched, never
// polled, and must follow a readiness change within a second.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEPLOYMENTS, ENDPOINTS, ENDPOINTSLICES, NODES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Pod, Service } from "#pkg/api/types/core.js";
import type { EndpointSlice } from "#pkg/api/types/discovery.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { deployment, node, pod as podOf, setPodRunningReady } from "../harness/objects.js";
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
  // The slices' controller leaves out pods whose Node does not exist.
  await srv.client.create(NODES, undefined, node("node-1"));
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: [
      "--leader-elect=false",
      "--controllers=endpoints-controller,endpointslice-controller,endpointslice-mirroring-controller,garbagecollector",
    ],
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

/** The endpoints of a Service's slices (by the controller given) as "ip:port ready/serving/terminating". */
function sliceEndpoints(slices: readonly EndpointSlice[]): string[] {
  return slices
    .flatMap((s) =>
      s.endpoints.map((e) => {
        const c = e.conditions ?? {};
        return `${e.addresses[0]}:${s.ports?.[0]?.port} ${c.ready ? "R" : "-"}${c.serving ? "S" : "-"}${c.terminating ? "T" : "-"}`;
      }),
    )
    .sort();
}

async function slicesBecome(service: string, want: string[], o: { timeoutMs?: number; managedBy?: string } = {}) {
  const start = Date.now();
  const managedBy = o.managedBy ?? "endpointslice-controller.k8s.io";
  const slices = await watchUntil(
    srv.client,
    ENDPOINTSLICES,
    NS,
    (ss) => JSON.stringify(sliceEndpoints(ss)) === JSON.stringify([...want].sort()),
    {
      labelSelector: `kubernetes.io/service-name=${service},endpointslice.kubernetes.io/managed-by=${managedBy}`,
      timeoutMs: o.timeoutMs ?? 10_000,
      message: `slices of ${service}: ${JSON.stringify(want)}`,
    },
  );
  return { slices, ms: Date.now() - start };
}

describe("the EndpointSlice controllers", () => {
  test("a Service's slice: <svc>-<random>, its labels and owner, ready/serving/terminating per pod", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "shop", labels: { tier: "back" } },
      spec: { selector: { app: "shop" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    await startPod("shop-a", 8080, "10.244.3.1", true, "shop");
    await startPod("shop-b", 8080, "10.244.3.2", false, "shop");
    const { slices } = await slicesBecome("shop", ["10.244.3.1:8080 RS-", "10.244.3.2:8080 ---"]);
    const [s] = slices;
    assert.match(s?.metadata.name ?? "", /^shop-[a-z0-9]{5}$/);
    assert.deepEqual(s?.metadata.labels, {
      tier: "back",
      "kubernetes.io/service-name": "shop",
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    const svc = await srv.client.get<Service>(SERVICES, NS, "shop");
    assert.deepEqual(
      s?.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]),
      [["Service", "shop", svc.metadata.uid, true]],
    );
    assert.equal(s?.endpoints.find((e) => e.addresses[0] === "10.244.3.1")?.nodeName, "node-1");
    assert.equal(s?.endpoints.find((e) => e.addresses[0] === "10.244.3.1")?.targetRef?.name, "shop-a");
    // A terminating pod stays as serving (its readiness) and terminating, not ready.
    await srv.client.delete(PODS, NS, "shop-a", { gracePeriodSeconds: 30 });
    await slicesBecome("shop", ["10.244.3.1:8080 -ST", "10.244.3.2:8080 ---"]);
  });

  test("slices follow a readiness change within a second, both ways", async () => {
    await setReady("shop-b", true);
    const up = await slicesBecome("shop", ["10.244.3.1:8080 -ST", "10.244.3.2:8080 RS-"], { timeoutMs: 1000 });
    await setReady("shop-b", false);
    const down = await slicesBecome("shop", ["10.244.3.1:8080 -ST", "10.244.3.2:8080 ---"], { timeoutMs: 1000 });
    assert.ok(up.ms < 1000 && down.ms < 1000, `${up.ms} ms, ${down.ms} ms`);
  });

  test("120 pods: slices of at most 100; the Service deleted, its slices go with it", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "big" },
      spec: { selector: { app: "big" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const ips = Array.from({ length: 120 }, (_, i) => `10.245.${Math.floor(i / 100)}.${(i % 100) + 1}`);
    await Promise.all(ips.map((ip, i) => startPod(`big-${i}`, 8080, ip, true, "big")));
    const { slices } = await slicesBecome(
      "big",
      ips.map((ip) => `${ip}:8080 RS-`),
      { timeoutMs: 30_000 },
    );
    // Pods arrive over several syncs: slices fill up to 100 each, however the endpoints came.
    const sizes = slices.map((s) => s.endpoints.length);
    assert.ok(sizes.length >= 2 && sizes.every((n) => n <= 100), JSON.stringify(sizes));
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      120,
    );
    await srv.client.delete(SERVICES, NS, "big");
    await slicesBecome("big", [], { timeoutMs: 30_000 });
    await watchUntil(srv.client, ENDPOINTSLICES, NS, (ss) => ss.length === 0, {
      labelSelector: "kubernetes.io/service-name=big",
      timeoutMs: 30_000,
      message: "big's slices collected",
    });
  });

  test("a selector-less Service's Endpoints are mirrored; the API server's kubernetes ones are not", async () => {
    await srv.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "db" },
      spec: { ports: [{ name: "pg", port: 5432 }] },
    });
    await srv.client.create<Endpoints>(ENDPOINTS, NS, {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "db", labels: { team: "data" } },
      subsets: [
        {
          addresses: [{ ip: "192.0.2.10" }],
          notReadyAddresses: [{ ip: "192.0.2.11" }],
          ports: [{ name: "pg", port: 5432 }],
        },
      ],
    });
    const managedBy = "endpointslicemirroring-controller.k8s.io";
    const { slices } = await slicesBecome("db", ["192.0.2.10:5432 R--", "192.0.2.11:5432 ---"], { managedBy });
    assert.match(slices[0]?.metadata.name ?? "", /^db-/);
    assert.equal(slices[0]?.metadata.labels?.team, "data");
    assert.deepEqual(
      slices[0]?.metadata.ownerReferences?.map((r) => [r.kind, r.name]),
      [["Endpoints", "db"]],
    );
    await srv.client.patch(
      ENDPOINTS,
      NS,
      "db",
      { subsets: [{ addresses: [{ ip: "192.0.2.12" }], ports: [{ name: "pg", port: 5432 }] }] },
      "merge",
    );
    await slicesBecome("db", ["192.0.2.12:5432 R--"], { managedBy });
    const kube = await srv.client.list<EndpointSlice>(ENDPOINTSLICES, NS, {
      labelSelector: "kubernetes.io/service-name=kubernetes",
    });
    assert.deepEqual(
      kube.items.map((s) => [s.metadata.name, s.metadata.labels?.["endpointslice.kubernetes.io/managed-by"]]),
      [["kubernetes", undefined]],
    );
  });

  test("kubectl get endpointslices -l kubernetes.io/service-name=shop", async () => {
    const out = await kc.ok(["get", "endpointslices", "-l", "kubernetes.io/service-name=shop"]);
    const [head, row] = out.trim().split("\n");
    assert.match(head ?? "", /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/);
    assert.match(row ?? "", /^shop-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.3\.\d,10\.244\.3\.\d\s+\S+$/);
  });
});

/** Ages ("5s", "2m10s") vary between two runs: they compare as AGE. */
const normalizeAges = (out: string) => out.replace(/(?<=\s)\d+[smhd](\d+[smh])?(?=\s|$)/g, "AGE");

describe("the CLI and the real kubectl", () => {
  const kubeling = (args: string[]) => runCli(["--kubeconfig", srv.kubeconfigPath, ...args]);

  before(async () => {
    // A Deployment object (no deployment controller runs) and pods of it, started by hand.
    const d = deployment("cli", 2);
    d.metadata.labels = { app: "cli" };
    const c = d.spec?.template.spec?.containers[0];
    if (c) c.ports = [{ name: "http", containerPort: 8080, protocol: "TCP" }];
    await srv.client.create(DEPLOYMENTS, NS, d);
    await startPod("cli-a", 8080, "10.244.4.1", true, "cli");
    await startPod("cli-b", 8080, "10.244.4.2", false, "cli");
  });

  test("kubectl expose and kubeling expose make the same Service", async () => {
    assert.equal(
      await kc.ok(["expose", "deployment", "cli", "--port=80", "--target-port=http", "--type=NodePort"]),
      "service/cli exposed\n",
    );
    const r = await kubeling([
      "expose",
      "deployment",
      "cli",
      "--port=80",
      "--target-port=http",
      "--type=NodePort",
      "--name=cli2",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "service/cli2 exposed\n");
    const a = await srv.client.get<Service>(SERVICES, NS, "cli");
    const b = await srv.client.get<Service>(SERVICES, NS, "cli2");
    const shape = (s: Service) => ({
      labels: s.metadata.labels,
      selector: s.spec?.selector,
      type: s.spec?.type,
      ports: s.spec?.ports?.map((p) => ({ ...p, nodePort: p.nodePort ? "set" : undefined })),
    });
    assert.deepEqual(shape(b), shape(a));
    assert.deepEqual(a.spec?.selector, { app: "cli" });
    assert.deepEqual(a.spec?.ports?.[0] && { port: a.spec.ports[0].port, targetPort: a.spec.ports[0].targetPort }, {
      port: 80,
      targetPort: "http",
    });
    // A pod (its labels, its container ports) and a service (its selector) expose too.
    const pod = await kubeling(["expose", "pod", "cli-a", "--name=cli-pod"]);
    assert.equal(pod.code, 0, pod.stderr);
    const fromPod = await srv.client.get<Service>(SERVICES, NS, "cli-pod");
    assert.deepEqual(fromPod.spec?.selector, { app: "cli" });
    assert.deepEqual(
      fromPod.spec?.ports?.map((p) => [p.port, p.targetPort, p.protocol]),
      [[8080, 8080, "TCP"]],
    );
    const kpod = await kc.ok(["expose", "pod", "cli-a", "--name=cli-kpod"]);
    assert.equal(kpod, "service/cli-kpod exposed\n");
    const fromKPod = await srv.client.get<Service>(SERVICES, NS, "cli-kpod");
    assert.deepEqual(fromKPod.spec?.ports, fromPod.spec?.ports);
    const svc = await kubeling(["expose", "service", "cli", "--name=cli-svc", "--port=8081", "--target-port=8080"]);
    assert.equal(svc.code, 0, svc.stderr);
    assert.deepEqual((await srv.client.get<Service>(SERVICES, NS, "cli-svc")).spec?.selector, { app: "cli" });
  });

  test("get svc,ep,endpointslices: the same tables from kubectl and kubeling", async () => {
    await endpointsBecome("cli", { ready: ["10.244.4.1:8080"], notReady: ["10.244.4.2:8080"] });
    await slicesBecome("cli", ["10.244.4.1:8080 RS-", "10.244.4.2:8080 ---"]);
    const args = ["get", "svc,ep,endpointslices", "-l", "app=cli"];
    const k = await kc.ok(args);
    const r = await kubeling(args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(k, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/m);
    assert.match(k, /^service\/cli\s+NodePort\s+10\.\S+\s+<none>\s+80:\d+\/TCP\s/m);
    assert.match(k, /^endpoints\/cli\s+10\.244\.4\.1:8080\s/m);
    assert.match(
      k,
      /^endpointslice\.discovery\.k8s\.io\/cli-[a-z0-9]{5}\s+IPv4\s+8080\s+10\.244\.4\.\d,10\.244\.4\.\d\s/m,
    );
    assert.equal(normalizeAges(r.stdout), normalizeAges(k));
  });

  test("describe svc: kubectl's and kubeling's agree, endpoints from the slices", async () => {
    const k = await kc.ok(["describe", "svc", "cli"]);
    // kubectl 1.33 lists the ready endpoints only (1.31 listed the not-ready 10.244.4.2 too).
    assert.match(k, /^Endpoints:\s+10\.244\.4\.1:8080$/m);
    assert.match(k, /^NodePort:\s+<unset>\s+\d+\/TCP$/m);
    const r = await kubeling(["describe", "svc", "cli"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, k);
  });
});
