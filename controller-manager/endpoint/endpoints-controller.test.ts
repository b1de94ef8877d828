import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ENDPOINTS, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Pod, Service, ServiceSpec } from "#pkg/api/types/core.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { waitFor } from "../../test/harness/wait.js";
import { LAST_CHANGE_TRIGGER_TIME } from "../endpointutil/trigger-time.js";
import { EndpointsController, LABEL_HEADLESS, subsetsForService, truncateEndpoints } from "./endpoints-controller.js";
import { repackSubsets } from "./repack.js";

const NS = "default";
afterEach(abortFakeContexts);

function service(name: string, spec: ServiceSpec, labels?: Record<string, string>): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      creationTimestamp: "2024-05-01T12:00:00Z",
      ...(labels ? { labels } : {}),
    },
    spec: { clusterIP: "10.96.0.10", ...spec },
  };
}

interface PodOpts {
  ip?: string;
  ready?: boolean;
  readySince?: string;
  labels?: Record<string, string>;
  httpPort?: number;
  node?: string;
  deleting?: boolean;
  phase?: string;
  hostname?: string;
  subdomain?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels: o.labels ?? { app: "web" },
      ...(o.deleting ? { deletionTimestamp: "2024-05-01T12:10:00Z" } : {}),
    },
    spec: {
      nodeName: o.node ?? "node-1",
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: o.httpPort ?? 8080 }] }],
    },
    status: {
      phase: o.phase ?? "Running",
      ...(o.ip === "" ? {} : { podIP: o.ip ?? "10.244.0.1", podIPs: [{ ip: o.ip ?? "10.244.0.1" }] }),
      conditions: [
        {
          type: "Ready",
          status: o.ready === false ? "False" : "True",
          lastTransitionTime: o.readySince ?? "2024-05-01T12:01:00Z",
        },
      ],
    },
  };
}

async function rig(seed: (client: FakeClient) => void) {
  const ctx = fakeControllerContext();
  seed(ctx.client);
  const controller = new EndpointsController(ctx);
  const signal = await ctx.start();
  const running = controller.run(signal, 2);
  return { client: ctx.client, controller, events: ctx.events, running };
}

const endpointsOf = (client: FakeClient, name = "web") => client.object<Endpoints>(ENDPOINTS, NS, name);

describe("subsetsForService", () => {
  test("ready and not-ready pods, a named target port resolved per pod, and the pods' own ports", () => {
    const svc = service("web", {
      selector: { app: "web" },
      ports: [
        { name: "http", port: 80, targetPort: "http", protocol: "TCP" },
        { name: "metrics", port: 9090, targetPort: 9090, protocol: "TCP" },
      ],
    });
    const a = pod("a", { ip: "10.244.0.2" });
    const b = pod("b", { ip: "10.244.0.1", httpPort: 8081, ready: false, node: "node-2" });
    const { subsets } = subsetsForService(svc, [a, b]);
    const A = {
      ip: "10.244.0.2",
      nodeName: "node-1",
      targetRef: { kind: "Pod", namespace: NS, name: "a", uid: "uid-a" },
    };
    const B = {
      ip: "10.244.0.1",
      nodeName: "node-2",
      targetRef: { kind: "Pod", namespace: NS, name: "b", uid: "uid-b" },
    };
    assert.deepEqual(subsets, [
      { addresses: [A], ports: [{ name: "http", port: 8080, protocol: "TCP" }] },
      { notReadyAddresses: [B], ports: [{ name: "http", port: 8081, protocol: "TCP" }] },
      { addresses: [A], notReadyAddresses: [B], ports: [{ name: "metrics", port: 9090, protocol: "TCP" }] },
    ]);
  });

  test("terminating, finished and IP-less pods are left out; publishNotReadyAddresses lists every other", () => {
    const pods = [
      pod("ready", { ip: "10.244.0.1" }),
      pod("unready", { ip: "10.244.0.2", ready: false }),
      pod("deleting", { ip: "10.244.0.3", deleting: true }),
      pod("done", { ip: "10.244.0.4", phase: "Succeeded" }),
      pod("pending", { ip: "" }),
    ];
    const spec = { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080, protocol: "TCP" }] };
    const ips = (ss: ReturnType<typeof subsetsForService>["subsets"]) => ({
      ready: ss.flatMap((s) => (s.addresses ?? []).map((a) => a.ip)),
      notReady: ss.flatMap((s) => (s.notReadyAddresses ?? []).map((a) => a.ip)),
    });
    assert.deepEqual(ips(subsetsForService(service("web", spec), pods).subsets), {
      ready: ["10.244.0.1"],
      notReady: ["10.244.0.2"],
    });
    // Publishing not-ready addresses includes the terminating pod too (upstream tolerateUnready).
    assert.deepEqual(
      ips(subsetsForService(service("web", { ...spec, publishNotReadyAddresses: true }), pods).subsets),
      { ready: ["10.244.0.1", "10.244.0.2", "10.244.0.3"], notReady: [] },
    );
  });

  test("a headless Service without ports lists addresses; hostnames of pods in its subdomain", () => {
    const svc = service("db", { clusterIP: "None", selector: { app: "web" } });
    const { subsets } = subsetsForService(svc, [
      pod("db-0", { ip: "10.244.0.5", hostname: "db-0", subdomain: "db" }),
      pod("other", { ip: "10.244.0.6", hostname: "x", subdomain: "elsewhere" }),
    ]);
    assert.equal(subsets.length, 1);
    assert.equal(subsets[0]?.ports, undefined);
    assert.deepEqual(
      subsets[0]?.addresses?.map((a) => [a.ip, a.hostname]),
      [
        ["10.244.0.5", "db-0"],
        ["10.244.0.6", undefined],
      ],
    );
  });
});

test("repackSubsets folds per-pod subsets by port set, ready winning, sorted", () => {
  const addr = (ip: string) => ({ ip, targetRef: { kind: "Pod", uid: ip } });
  const p80 = { name: "a", port: 80, protocol: "TCP" };
  const p81 = { name: "b", port: 81, protocol: "TCP" };
  const out = repackSubsets([
    { addresses: [addr("10.0.0.10")], ports: [p80] },
    { addresses: [addr("10.0.0.9")], ports: [p80] },
    { notReadyAddresses: [addr("10.0.0.9")], ports: [p80] },
    { addresses: [addr("10.0.0.9")], ports: [p81] },
    { addresses: [addr("10.0.0.10")], ports: [p81] },
  ]);
  assert.deepEqual(out, [{ addresses: [addr("10.0.0.9"), addr("10.0.0.10")], ports: [p80, p81] }]);
});

test("truncateEndpoints keeps 1000 addresses, dropping not-ready ones first", () => {
  const many = (n: number, base: number) =>
    Array.from({ length: n }, (_, i) => ({ ip: `10.${base}.${Math.floor(i / 250)}.${i % 250}` }));
  const subsets = [{ addresses: many(900, 1), notReadyAddresses: many(300, 2) }];
  assert.equal(truncateEndpoints(subsets), true);
  assert.equal(subsets[0]?.addresses?.length, 900);
  assert.equal(subsets[0]?.notReadyAddresses?.length, 100);
  assert.equal(truncateEndpoints([{ addresses: many(10, 3) }]), false);
});

describe("EndpointsController", () => {
  test("creates Endpoints with the Service's labels, the headless label and the trigger time; follows readiness", async (t) => {
    const r = await rig((c) => {
      c.seed(
        SERVICES,
        service(
          "web",
          { selector: { app: "web" }, ports: [{ port: 80, targetPort: "http", protocol: "TCP" }] },
          {
            tier: "front",
          },
        ),
        service("db", { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432, protocol: "TCP" }] }),
      );
      c.seed(PODS, pod("a", { ip: "10.244.0.2" }), pod("b", { ip: "10.244.0.3", ready: false }));
    });
    t.after(() => r.controller.queue.shutDown());
    const ep = await waitFor(() => endpointsOf(r.client));
    assert.deepEqual(ep.metadata.labels, { tier: "front" });
    assert.equal(ep.metadata.annotations?.[LAST_CHANGE_TRIGGER_TIME], "2024-05-01T12:00:00Z");
    assert.deepEqual(
      ep.subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports]),
      [[["10.244.0.2"], ["10.244.0.3"], [{ port: 8080, protocol: "TCP" }]]],
    );
    const db = await waitFor(() => endpointsOf(r.client, "db"));
    assert.deepEqual(db.metadata.labels, { [LABEL_HEADLESS]: "" });
    assert.deepEqual(db.subsets, []);

    // b turns Ready: it moves to addresses, and the trigger time is its Ready transition.
    const b = r.client.object<Pod>(PODS, NS, "b") as Pod;
    b.status = {
      ...b.status,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-05-01T12:05:00Z" }],
    };
    await r.client.update(PODS, NS, b, { subresource: "status" });
    const moved = await waitFor(() => {
      const e = endpointsOf(r.client);
      return e?.subsets?.[0]?.addresses?.length === 2 ? e : undefined;
    });
    assert.equal(moved.subsets?.[0]?.notReadyAddresses, undefined);
    assert.equal(moved.metadata.annotations?.[LAST_CHANGE_TRIGGER_TIME], "2024-05-01T12:05:00Z");

    // A label change moves a pod out; a deleted pod goes.
    const a = r.client.object<Pod>(PODS, NS, "a") as Pod;
    a.metadata.labels = { app: "other" };
    await r.client.update(PODS, NS, a);
    await waitFor(() => endpointsOf(r.client)?.subsets?.[0]?.addresses?.length === 1);
    await r.client.delete(PODS, NS, "b");
    await waitFor(() => (endpointsOf(r.client)?.subsets ?? []).length === 0);
  });

  test("an unchanged Service is not written again; an update of a pod field endpoints do not show is ignored", async (t) => {
    const r = await rig((c) => {
      c.seed(SERVICES, service("web", { selector: { app: "web" }, ports: [{ port: 80, protocol: "TCP" }] }));
      c.seed(PODS, pod("a"));
    });
    t.after(() => r.controller.queue.shutDown());
    await waitFor(() => endpointsOf(r.client));
    await waitFor(() => r.controller.queue.length === 0);
    const writes = () =>
      r.client.actionsOf("create", ENDPOINTS).length + r.client.actionsOf("update", ENDPOINTS).length;
    const before = writes();
    await r.controller.sync(`${NS}/web`);
    const a = r.client.object<Pod>(PODS, NS, "a") as Pod;
    a.metadata.annotations = { note: "x" };
    await r.client.update(PODS, NS, a);
    await r.controller.sync(`${NS}/web`);
    assert.equal(writes(), before);
  });

  test("selector-less and ExternalName Services keep what their users wrote; a deleted Service's Endpoints go", async (t) => {
    const userEp: Endpoints = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external", namespace: NS },
      subsets: [{ addresses: [{ ip: "192.0.2.10" }], ports: [{ port: 5432, protocol: "TCP" }] }],
    };
    const r = await rig((c) => {
      c.seed(
        SERVICES,
        service("external", { ports: [{ port: 5432, protocol: "TCP" }] }),
        service("web", { selector: { app: "web" }, ports: [{ port: 80, protocol: "TCP" }] }),
        service("name", { type: "ExternalName", externalName: "example.com", selector: { app: "web" } }),
      );
      c.seed(ENDPOINTS, userEp);
      c.seed(PODS, pod("a"));
    });
    t.after(() => r.controller.queue.shutDown());
    await waitFor(() => endpointsOf(r.client));
    await r.controller.sync(`${NS}/external`);
    await r.controller.sync(`${NS}/name`);
    assert.deepEqual(endpointsOf(r.client, "external")?.subsets, userEp.subsets);
    assert.equal(endpointsOf(r.client, "name"), undefined);
    await r.client.delete(SERVICES, NS, "web");
    await waitFor(() => endpointsOf(r.client) === undefined);
  });

  test("Endpoints left over from a Service deleted while no controller ran are deleted at start", async (t) => {
    const r = await rig((c) => {
      c.seed(ENDPOINTS, { apiVersion: "v1", kind: "Endpoints", metadata: { name: "gone", namespace: NS } });
    });
    t.after(() => r.controller.queue.shutDown());
    await waitFor(() => endpointsOf(r.client, "gone") === undefined);
  });

  test("deleted Endpoints of a live Service are made again", async (t) => {
    const r = await rig((c) => {
      c.seed(SERVICES, service("web", { selector: { app: "web" }, ports: [{ port: 80, protocol: "TCP" }] }));
      c.seed(PODS, pod("a"));
    });
    t.after(() => r.controller.queue.shutDown());
    const first = await waitFor(() => endpointsOf(r.client));
    await r.client.delete(ENDPOINTS, NS, "web");
    await waitFor(() => {
      const e = endpointsOf(r.client);
      return e && e.metadata.uid !== first.metadata.uid;
    });
  });
});
