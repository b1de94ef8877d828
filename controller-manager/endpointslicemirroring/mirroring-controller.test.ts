import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { ENDPOINTS, ENDPOINTSLICES, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Service } from "#pkg/api/types/core.js";
import type { EndpointSlice } from "#pkg/api/types/discovery.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { waitFor } from "../../test/harness/wait.js";
import { CONTROLLER_NAME, EndpointSliceMirroringController, reconcileMirror } from "./mirroring-controller.js";

const NS = "default";
afterEach(abortFakeContexts);

const service = (name: string, selector?: Record<string, string>): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: NS, uid: `uid-svc-${name}` },
  spec: { ports: [{ port: 5432, protocol: "TCP" }], ...(selector ? { selector } : {}) },
});

function endpoints(
  name: string,
  o: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Endpoints {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace: NS, uid: `uid-ep-${name}`, ...o },
    subsets: [
      {
        addresses: [{ ip: "192.0.2.10", nodeName: "node-1", hostname: "db-0" }, { ip: "not-an-ip" }],
        notReadyAddresses: [{ ip: "192.0.2.11" }],
        ports: [{ name: "pg", port: 5432, protocol: "TCP" }],
      },
    ],
  };
}

describe("reconcileMirror", () => {
  test("one slice per subset: ready and not-ready addresses, ports, labels, annotations, owner; invalid IPs skipped", () => {
    const ep = endpoints("db", {
      labels: { team: "data" },
      annotations: {
        note: "x",
        "endpoints.kubernetes.io/last-change-trigger-time": "2024-05-01T12:00:00Z",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
      },
    });
    const ch = reconcileMirror(ep, [], 1000);
    assert.equal(ch.invalid, 1);
    assert.equal(ch.create.length, 1);
    const s = ch.create[0] as EndpointSlice;
    assert.equal(s.metadata.generateName, "db-");
    assert.deepEqual(s.metadata.labels, {
      team: "data",
      "kubernetes.io/service-name": "db",
      "endpointslice.kubernetes.io/managed-by": CONTROLLER_NAME,
    });
    assert.deepEqual(s.metadata.annotations, { note: "x" });
    assert.deepEqual(
      s.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.controller]),
      [["Endpoints", "db", true]],
    );
    assert.deepEqual(s.ports, [{ name: "pg", port: 5432, protocol: "TCP" }]);
    assert.deepEqual(
      s.endpoints.map((e) => [e.addresses[0], e.conditions?.ready, e.nodeName, e.hostname]),
      [
        ["192.0.2.10", true, "node-1", "db-0"],
        ["192.0.2.11", false, undefined, undefined],
      ],
    );
    s.metadata.name = "db-abc";
    assert.deepEqual(reconcileMirror(ep, [s], 1000).update, []);
  });
});

async function rig(seed: (client: FakeClient) => void) {
  const ctx = fakeControllerContext();
  seed(ctx.client);
  const controller = new EndpointSliceMirroringController(ctx);
  const signal = await ctx.start();
  void controller.run(signal, 2);
  return { client: ctx.client, controller, events: ctx.events };
}

const mirrored = async (client: FakeClient, name: string) =>
  (
    await client.list<EndpointSlice>(ENDPOINTSLICES, NS, {
      labelSelector: `kubernetes.io/service-name=${name},endpointslice.kubernetes.io/managed-by=${CONTROLLER_NAME}`,
    })
  ).items;

describe("EndpointSliceMirroringController", () => {
  test("mirrors a selector-less Service's Endpoints and follows their changes; skip-mirror and selector Services are not", async (t) => {
    const r = await rig((c) => {
      c.seed(SERVICES, service("db"), service("kubernetes"), service("web", { app: "web" }));
      c.seed(
        ENDPOINTS,
        endpoints("db"),
        endpoints("kubernetes", { labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } }),
        endpoints("web"),
      );
    });
    t.after(() => r.controller.queue.shutDown());
    const [slice] = await waitFor(async () => {
      const l = await mirrored(r.client, "db");
      return l.length === 1 ? l : undefined;
    });
    assert.equal(slice?.endpoints.length, 2);
    assert.ok(r.events.events.some((e) => e.reason === "InvalidIPAddress"));
    const ep = r.client.object<Endpoints>(ENDPOINTS, NS, "db") as Endpoints;
    ep.subsets = [{ addresses: [{ ip: "192.0.2.20" }], ports: [{ name: "pg", port: 5432, protocol: "TCP" }] }];
    await r.client.update(ENDPOINTS, NS, ep);
    await waitFor(async () => {
      const l = await mirrored(r.client, "db");
      return l.length === 1 && l[0]?.endpoints.map((e) => e.addresses[0]).join() === "192.0.2.20";
    });
    assert.deepEqual(await mirrored(r.client, "kubernetes"), []);
    assert.deepEqual(await mirrored(r.client, "web"), []);
    // The Service gains a selector: its mirrored slices go.
    const svc = r.client.object<Service>(SERVICES, NS, "db") as Service;
    svc.spec = { ...svc.spec, selector: { app: "db" } };
    await r.client.update(SERVICES, NS, svc);
    await waitFor(async () => (await mirrored(r.client, "db")).length === 0);
  });
});
