import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Endpoints, Pod, Service } from "#pkg/api/types/index.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { type EnvSources, endpointsAsService, MasterEndpoints, serviceEnvFor } from "./envvars.js";

const svc = (namespace: string, name: string, ip: string, port: number, portName?: string): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { clusterIP: ip, ports: [{ ...(portName ? { name: portName } : {}), port, protocol: "TCP" }] },
});

const masterEndpoints: Endpoints = {
  apiVersion: "v1",
  kind: "Endpoints",
  metadata: { name: "kubernetes", namespace: "default" },
  subsets: [{ addresses: [{ ip: "10.213.64.2" }], ports: [{ name: "https", port: 6443, protocol: "TCP" }] }],
};

const services = [
  svc("default", "kubernetes", "10.96.0.1", 443, "https"),
  svc("default", "web", "10.96.0.10", 80),
  svc("apps", "db", "10.96.0.20", 5432),
];

function sources(ep: Endpoints | undefined): EnvSources {
  return {
    services: (ns) => services.filter((s) => s.metadata.namespace === ns),
    ...(ep === undefined ? {} : { masterEndpoints: async () => ep }),
    configMap: async () => undefined,
    secret: async () => undefined,
  };
}

const pod = (namespace: string, enableServiceLinks?: boolean): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace },
  spec: {
    containers: [{ name: "c", image: "x" }],
    ...(enableServiceLinks === undefined ? {} : { enableServiceLinks }),
  },
});

describe("the master service's variables", () => {
  test("name the API server's advertise address from the Endpoints default/kubernetes, in upstream's docker-link form", async () => {
    const env = Object.fromEntries(await serviceEnvFor(pod("apps"), sources(masterEndpoints)));
    assert.deepEqual(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("KUBERNETES_"))), {
      KUBERNETES_SERVICE_HOST: "10.213.64.2",
      KUBERNETES_SERVICE_PORT: "6443",
      KUBERNETES_SERVICE_PORT_HTTPS: "6443",
      KUBERNETES_PORT: "tcp://10.213.64.2:6443",
      KUBERNETES_PORT_6443_TCP: "tcp://10.213.64.2:6443",
      KUBERNETES_PORT_6443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_6443_TCP_PORT: "6443",
      KUBERNETES_PORT_6443_TCP_ADDR: "10.213.64.2",
    });
    assert.equal(env.DB_SERVICE_HOST, "10.96.0.20", "the namespace's own Services keep their ClusterIPs");
    assert.equal(env.WEB_SERVICE_HOST, undefined, "another namespace's Services give no variables");
  });

  test("in namespace default the kubernetes Service is not listed a second time with its ClusterIP", async () => {
    const env = await serviceEnvFor(pod("default"), sources(masterEndpoints));
    assert.deepEqual(
      env.filter(([k]) => k === "KUBERNETES_SERVICE_HOST"),
      [["KUBERNETES_SERVICE_HOST", "10.213.64.2"]],
    );
    assert.ok(env.some(([k, v]) => k === "WEB_SERVICE_HOST" && v === "10.96.0.10"));
  });

  test("enableServiceLinks: false keeps only the master service's", async () => {
    const env = Object.fromEntries(await serviceEnvFor(pod("apps", false), sources(masterEndpoints)));
    assert.equal(env.KUBERNETES_SERVICE_HOST, "10.213.64.2");
    assert.equal(env.DB_SERVICE_HOST, undefined);
  });

  test("without Endpoints (or with an empty one) they fall back to the Service's ClusterIP", async () => {
    for (const s of [
      sources(undefined),
      { ...sources(undefined), masterEndpoints: async () => undefined },
      sources({ ...masterEndpoints, subsets: [] }),
    ]) {
      const env = Object.fromEntries(await serviceEnvFor(pod("apps"), s));
      assert.equal(env.KUBERNETES_SERVICE_HOST, "10.96.0.1");
      assert.equal(env.KUBERNETES_SERVICE_PORT, "443");
    }
  });

  test("endpointsAsService skips subsets without addresses or ports", () => {
    const s = endpointsAsService({
      ...masterEndpoints,
      subsets: [{ notReadyAddresses: [{ ip: "10.0.0.9" }], ports: [{ port: 1 }] }, ...(masterEndpoints.subsets ?? [])],
    });
    assert.equal(s?.spec?.clusterIP, "10.213.64.2");
    assert.deepEqual(s?.spec?.ports, [{ name: "https", port: 6443, protocol: "TCP" }]);
  });
});

describe("MasterEndpoints", () => {
  test("reads once per max age, shares a request in flight, and rethrows failures without caching them", async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    let fail = false;
    const m = new MasterEndpoints(
      async () => {
        calls++;
        if (fail) throw new Error("connection refused");
        return masterEndpoints;
      },
      clock,
      10_000,
    );
    const [a, b] = await Promise.all([m.get(), m.get()]);
    assert.equal(a, masterEndpoints);
    assert.equal(b, masterEndpoints);
    assert.equal(calls, 1, "one request for concurrent callers");
    clock.step(9_999);
    await m.get();
    assert.equal(calls, 1, "fresh enough");
    clock.step(1);
    fail = true;
    await assert.rejects(m.get(), /connection refused/);
    assert.equal(calls, 2);
    fail = false;
    assert.equal(await m.get(), masterEndpoints, "a failure is not remembered");
    assert.equal(calls, 3);
  });
});
