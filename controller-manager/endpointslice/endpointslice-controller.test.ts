import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ENDPOINTSLICES, NODES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Node, Pod, Service, ServiceSpec } from "#pkg/api/types/core.js";
import type { EndpointSlice } from "#pkg/api/types/discovery.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { waitFor } from "../../test/harness/wait.js";
import { EndpointSliceController } from "./endpointslice-controller.js";
import { CONTROLLER_NAME, reconcile } from "./reconciler.js";

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
    spec: { clusterIP: "10.96.0.10", ipFamilies: ["IPv4"], ...spec },
  };
}

function pod(
  name: string,
  ip: string,
  o: { ready?: boolean; deleting?: boolean; port?: number; node?: string } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: NS,
      uid: `uid-${name}`,
      labels: { app: "web" },
      ...(o.deleting ? { deletionTimestamp: "2024-05-01T12:10:00Z" } : {}),
    },
    spec: {
      nodeName: o.node ?? "node-1",
      containers: [{ name: "c", image: "busybox", ports: [{ name: "http", containerPort: o.port ?? 8080 }] }],
    },
    status: {
      phase: "Running",
      podIP: ip,
      podIPs: [{ ip }],
      conditions: [
        { type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: "2024-05-01T12:01:00Z" },
      ],
    },
  };
}

const node = (name: string, zone?: string): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, ...(zone ? { labels: { "topology.kubernetes.io/zone": zone } } : {}) },
});

const web = () =>
  service("web", {
    selector: { app: "web" },
    ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
  });
const nodes = new Map([["node-1", node("node-1", "zone-a")]]);

describe("reconcile", () => {
  test("a slice of the Service's pods: conditions, nodeName, zone, targetRef, labels, owner, generateName", () => {
    const svc = service(
      "web",
      { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }] },
      {
        tier: "front",
      },
    );
    const ch = reconcile({
      svc,
      pods: [
        pod("a", "10.244.0.1"),
        pod("b", "10.244.0.2", { ready: false }),
        pod("c", "10.244.0.3", { deleting: true }),
      ],
      existing: [],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    });
    assert.equal(ch.create.length, 1);
    const s = ch.create[0] as EndpointSlice;
    assert.equal(s.metadata.generateName, "web-");
    assert.deepEqual(s.metadata.labels, {
      tier: "front",
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": CONTROLLER_NAME,
    });
    assert.deepEqual(s.metadata.ownerReferences, [
      { apiVersion: "v1", kind: "Service", name: "web", uid: "uid-web", controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(s.addressType, "IPv4");
    assert.deepEqual(s.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
    assert.deepEqual(
      s.endpoints.map((e) => [e.addresses[0], e.conditions, e.nodeName, e.zone, e.targetRef?.name]),
      [
        ["10.244.0.1", { ready: true, serving: true, terminating: false }, "node-1", "zone-a", "a"],
        ["10.244.0.2", { ready: false, serving: false, terminating: false }, "node-1", "zone-a", "b"],
        ["10.244.0.3", { ready: false, serving: true, terminating: true }, "node-1", "zone-a", "c"],
      ],
    );
  });

  test("at most maxEndpointsPerSlice a slice; pods with different resolved ports get slices of their own", () => {
    const pods = [
      ...Array.from({ length: 250 }, (_, i) => pod(`p${i}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 1}`)),
      pod("odd", "10.244.9.1", { port: 9090 }),
    ];
    const ch = reconcile({ svc: web(), pods, existing: [], nodeOf: (n) => nodes.get(n), maxEndpointsPerSlice: 100 });
    assert.deepEqual(ch.create.map((s) => [s.ports?.[0]?.port, s.endpoints.length]).sort(), [
      [8080, 100],
      [8080, 100],
      [8080, 50],
      [9090, 1],
    ]);
  });

  test("an endpoint stays in its slice; a new pod joins the slice being written; nothing changes: no writes", () => {
    const first = reconcile({
      svc: web(),
      pods: [pod("a", "10.244.0.1"), pod("b", "10.244.0.2")],
      existing: [],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    }).create[0] as EndpointSlice;
    first.metadata.name = "web-abcde";
    first.metadata.uid = "s1";
    const same = reconcile({
      svc: web(),
      pods: [pod("a", "10.244.0.1"), pod("b", "10.244.0.2")],
      existing: [first],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    });
    assert.deepEqual([same.create.length, same.update.length, same.delete.length], [0, 0, 0]);
    const flipped = reconcile({
      svc: web(),
      pods: [pod("a", "10.244.0.1", { ready: false }), pod("b", "10.244.0.2"), pod("c", "10.244.0.3")],
      existing: [first],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    });
    assert.deepEqual([flipped.create.length, flipped.update.length, flipped.delete.length], [0, 1, 0]);
    assert.deepEqual(
      flipped.update[0]?.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]),
      [
        ["10.244.0.1", false],
        ["10.244.0.2", true],
        ["10.244.0.3", true],
      ],
    );
  });

  test("no pods: one empty placeholder, kept as it is; a pod on a missing node is left out and reported", () => {
    const ch = reconcile({
      svc: web(),
      pods: [],
      existing: [],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    });
    assert.equal(ch.create.length, 1);
    const placeholder = ch.create[0] as EndpointSlice;
    assert.deepEqual([placeholder.endpoints, placeholder.ports], [[], []]);
    placeholder.metadata.name = "web-xyz";
    placeholder.metadata.uid = "p1";
    const again = reconcile({
      svc: web(),
      pods: [pod("lost", "10.244.0.7", { node: "gone" })],
      existing: [placeholder],
      nodeOf: (n) => nodes.get(n),
      maxEndpointsPerSlice: 100,
    });
    assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
    assert.deepEqual(again.missingNodes, ["gone"]);
  });
});

async function rig(seed: (client: FakeClient) => void) {
  const ctx = fakeControllerContext();
  ctx.client.seed(NODES, node("node-1"));
  seed(ctx.client);
  const controller = new EndpointSliceController(ctx);
  const signal = await ctx.start();
  void controller.run(signal, 2);
  return { client: ctx.client, controller };
}

const slicesOf = (client: FakeClient) =>
  client.list<EndpointSlice>(ENDPOINTSLICES, NS, { labelSelector: "kubernetes.io/service-name=web" });

describe("EndpointSliceController", () => {
  test("creates the Service's slice and follows a readiness change; selector-less Services get none", async (t) => {
    const r = await rig((c) => {
      c.seed(SERVICES, web(), service("external", { ports: [{ port: 5432, protocol: "TCP" }] }));
      c.seed(PODS, pod("a", "10.244.0.1"), pod("b", "10.244.0.2", { ready: false }));
    });
    t.after(() => r.controller.queue.shutDown());
    const created = await waitFor(async () => {
      const l = await slicesOf(r.client);
      return l.items.length === 1 && l.items[0]?.endpoints.length === 2 ? l.items[0] : undefined;
    });
    assert.match(created.metadata.name ?? "", /^web-/);
    assert.equal(
      created.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"],
      "2024-05-01T12:00:00Z",
    );
    const b = r.client.object<Pod>(PODS, NS, "b") as Pod;
    b.status = {
      ...b.status,
      conditions: [{ type: "Ready", status: "True", lastTransitionTime: "2024-05-01T12:02:00Z" }],
    };
    await r.client.update(PODS, NS, b, { subresource: "status" });
    const moved = await waitFor(async () => {
      const l = await slicesOf(r.client);
      const s = l.items[0];
      return s?.endpoints.every((e) => e.conditions?.ready) ? s : undefined;
    });
    assert.equal(moved.metadata.name, created.metadata.name, "updated in place");
    assert.equal(
      moved.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"],
      "2024-05-01T12:02:00Z",
    );
    assert.equal(r.client.actionsOf("create", ENDPOINTSLICES).length, 1, "one create, no duplicate slice");
    const external = await r.client.list<EndpointSlice>(ENDPOINTSLICES, NS, {
      labelSelector: "kubernetes.io/service-name=external",
    });
    assert.equal(external.items.length, 0);
  });

  test("a slice someone else edits is put back; one deleted is made again", async (t) => {
    const r = await rig((c) => {
      c.seed(SERVICES, web());
      c.seed(PODS, pod("a", "10.244.0.1"));
    });
    t.after(() => r.controller.queue.shutDown());
    const s = await waitFor(async () => (await slicesOf(r.client)).items[0]);
    const edited = structuredClone(s);
    edited.endpoints = [];
    edited.metadata.generation = (s.metadata.generation ?? 0) + 1;
    await r.client.update(ENDPOINTSLICES, NS, edited);
    await waitFor(async () => (await slicesOf(r.client)).items[0]?.endpoints.length === 1);
    await r.client.delete(ENDPOINTSLICES, NS, s.metadata.name ?? "");
    await waitFor(async () => {
      const l = await slicesOf(r.client);
      return l.items.length === 1 && l.items[0]?.metadata.name !== s.metadata.name;
    });
  });
});
