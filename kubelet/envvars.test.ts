import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod, Service } from "#pkg/api/types/index.js";
import { type EnvSources, serviceEnvFor } from "./envvars.js";

const svc = (namespace: string, name: string, ip: string, port: number, portName?: string): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { clusterIP: ip, ports: [{ ...(portName ? { name: portName } : {}), port, protocol: "TCP" }] },
});

const services = [
  svc("default", "kubernetes", "10.96.0.1", 443, "https"),
  svc("default", "web", "10.96.0.10", 80),
  svc("apps", "db", "10.96.0.20", 5432),
  svc("apps", "headless", "None", 80),
];

const sources = (list: Service[] = services): EnvSources => ({
  services: (ns) => list.filter((s) => s.metadata.namespace === ns),
  configMap: async () => undefined,
  secret: async () => undefined,
});

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
  test("name the kubernetes Service's cluster IP and port 443 in every namespace, in upstream's docker-link form", async () => {
    const env = Object.fromEntries(await serviceEnvFor(pod("apps"), sources()));
    assert.deepEqual(Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("KUBERNETES_"))), {
      KUBERNETES_SERVICE_HOST: "10.96.0.1",
      KUBERNETES_SERVICE_PORT: "443",
      KUBERNETES_SERVICE_PORT_HTTPS: "443",
      KUBERNETES_PORT: "tcp://10.96.0.1:443",
      KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443",
      KUBERNETES_PORT_443_TCP_PROTO: "tcp",
      KUBERNETES_PORT_443_TCP_PORT: "443",
      KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
    });
    assert.equal(env.DB_SERVICE_HOST, "10.96.0.20", "the namespace's own Services");
    assert.equal(env.WEB_SERVICE_HOST, undefined, "another namespace's Services give no variables");
    assert.equal(env.HEADLESS_SERVICE_HOST, undefined, "a headless Service gives none");
  });

  test("in namespace default the kubernetes Service is listed once", async () => {
    const env = await serviceEnvFor(pod("default"), sources());
    assert.deepEqual(
      env.filter(([k]) => k === "KUBERNETES_SERVICE_HOST"),
      [["KUBERNETES_SERVICE_HOST", "10.96.0.1"]],
    );
    assert.ok(env.some(([k, v]) => k === "WEB_SERVICE_HOST" && v === "10.96.0.10"));
  });

  test("enableServiceLinks: false keeps only the master service's", async () => {
    const env = Object.fromEntries(await serviceEnvFor(pod("apps", false), sources()));
    assert.equal(env.KUBERNETES_SERVICE_HOST, "10.96.0.1");
    assert.equal(env.DB_SERVICE_HOST, undefined);
  });

  test("without the kubernetes Service there are none (and the namespace's own still are)", async () => {
    const env = Object.fromEntries(
      await serviceEnvFor(pod("apps"), sources(services.filter((s) => s.metadata.name !== "kubernetes"))),
    );
    assert.equal(env.KUBERNETES_SERVICE_HOST, undefined);
    assert.equal(env.DB_SERVICE_HOST, "10.96.0.20");
  });
});
