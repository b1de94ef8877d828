import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Service } from "#pkg/api/types/index.js";
import { buildState, cidrContains, servicePorts } from "./model.js";

function svc(name: string, spec: NonNullable<Service["spec"]>, created = "2026-01-01T00:00:00Z"): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { namespace: "default", name, creationTimestamp: created },
    spec,
  };
}

describe("model", () => {
  it("headless, ExternalName and IP-less services have no ports to proxy", () => {
    assert.deepEqual(servicePorts(svc("h", { clusterIP: "None", ports: [{ port: 80 }] })), []);
    assert.deepEqual(servicePorts(svc("e", { type: "ExternalName", externalName: "example.com" })), []);
    assert.deepEqual(servicePorts(svc("n", { ports: [{ port: 80 }] })), []);
    const [p] = servicePorts(
      svc("web", { type: "NodePort", clusterIP: "10.96.0.5", ports: [{ port: 80, nodePort: 30001 }] }),
    );
    assert.equal(p?.name, "default/web");
    assert.equal(p?.protocol, "TCP");
    assert.equal(p?.nodePort, 30001);
  });

  it("slices: ports matched by name and protocol, readiness from conditions, an address once", () => {
    const state = buildState({
      services: [
        svc("web", {
          clusterIP: "10.96.0.5",
          ports: [
            { name: "http", port: 80 },
            { name: "other", port: 81 },
          ],
        }),
      ],
      slicesOf: () => [
        {
          addressType: "IPv4",
          endpoints: [
            { addresses: ["10.1.0.2"], nodeName: "node-2" },
            { addresses: ["10.1.0.1"], conditions: { ready: true } },
            { addresses: ["10.1.0.3"], conditions: { ready: false } },
          ],
          ports: [
            { name: "http", port: 8080, protocol: "TCP" },
            { name: "other", port: 8081, protocol: "UDP" },
          ],
        },
        { addressType: "IPv4", endpoints: [{ addresses: ["10.1.0.1"] }], ports: [{ name: "http", port: 8080 }] },
        { addressType: "IPv6", endpoints: [{ addresses: ["fd00::1"] }], ports: [{ name: "http", port: 8080 }] },
      ],
    });
    const http = state.services.find((s) => s.svc.portName === "http");
    assert.deepEqual(
      http?.endpoints.map((e) => [e.ip, e.port, e.ready, e.nodeName]),
      [
        ["10.1.0.1", 8080, true, undefined],
        ["10.1.0.2", 8080, true, "node-2"],
        ["10.1.0.3", 8080, false, undefined],
      ],
    );
    assert.deepEqual(state.services.find((s) => s.svc.portName === "other")?.endpoints, []);
  });

  it("a host LoadBalancer port goes to the oldest service; a younger one waits", () => {
    const lb = (name: string, created: string) =>
      svc(name, { type: "LoadBalancer", clusterIP: "10.96.0.9", ports: [{ port: 8080, nodePort: 30009 }] }, created);
    const skipped: string[] = [];
    const state = buildState({
      services: [lb("young", "2026-01-02T00:00:00Z"), lb("old", "2026-01-01T00:00:00Z")],
      slicesOf: () => [],
      skipped: (n) => skipped.push(n),
    });
    assert.deepEqual([...state.hostLoadBalancers.keys()], ["default/old"]);
    assert.deepEqual(skipped, ["default/young"]);
    assert.equal(state.services.find((s) => s.svc.service === "young")?.svc.hostLoadBalancer, false);
  });

  it("cluster IPs outside the service range are not programmed (they would route off the machine)", () => {
    const skipped: string[] = [];
    const state = buildState({
      services: [
        svc("in", { clusterIP: "10.96.0.5", ports: [{ port: 80 }] }),
        svc("out", { clusterIP: "192.0.2.5", ports: [{ port: 80 }] }),
      ],
      slicesOf: () => [],
      serviceCIDRs: ["10.96.0.0/12"],
      skipped: (n) => skipped.push(n),
    });
    assert.deepEqual(
      state.services.map((s) => s.svc.service),
      ["in"],
    );
    assert.deepEqual(skipped, ["default/out"]);
    assert.ok(cidrContains("10.96.0.0/12", "10.111.255.255") && !cidrContains("10.96.0.0/12", "10.112.0.0"));
  });
});
