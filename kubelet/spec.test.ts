import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import { serviceEnv } from "./envvars.js";
import { buildEnv, expandVars, hashContainer, limits, podDNS, pullPolicy } from "./spec.js";

const pod: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "prod", uid: "u-1", labels: { app: "web" }, annotations: { a: "b" } },
  spec: { nodeName: "node-1", serviceAccountName: "sa", containers: [{ name: "c", image: "busybox" }] },
};

describe("kubelet spec helpers", () => {
  test("pullPolicy defaults as upstream", () => {
    assert.equal(pullPolicy({ name: "c", image: "busybox" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "busybox:latest" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "busybox:1.36" }), "IfNotPresent");
    assert.equal(pullPolicy({ name: "c", image: "localhost:5000/busybox" }), "Always");
    assert.equal(pullPolicy({ name: "c", image: "localhost:5000/busybox:1" }), "IfNotPresent");
    assert.equal(pullPolicy({ name: "c", image: "busybox@sha256:abc" }), "IfNotPresent");
    assert.equal(pullPolicy({ name: "c", image: "busybox", imagePullPolicy: "Never" }), "Never");
  });

  test("limits map to NanoCpus and Memory", () => {
    assert.deepEqual(limits({ name: "c", resources: { limits: { cpu: "500m", memory: "64Mi" } } }), {
      nanoCpus: 500_000_000,
      memoryBytes: 64 * 1024 * 1024,
    });
    assert.deepEqual(limits({ name: "c" }), {});
  });

  test("hash changes with the image, not with probes", () => {
    const a = hashContainer({ name: "c", image: "x:1" });
    assert.equal(a, hashContainer({ name: "c", image: "x:1", livenessProbe: { exec: { command: ["true"] } } }));
    assert.notEqual(a, hashContainer({ name: "c", image: "x:2" }));
  });

  test("$(VAR) expansion", () => {
    const vars = new Map([["A", "1"]]);
    assert.equal(expandVars("x$(A)y", vars), "x1y");
    assert.equal(expandVars("$(B)", vars), "$(B)");
    assert.equal(expandVars("$$(A)", vars), "$(A)");
    assert.equal(expandVars("$", vars), "$");
  });

  test("env: values, downward API, expansion against earlier entries", () => {
    const env = buildEnv(
      pod,
      {
        name: "c",
        env: [
          { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
          { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
          { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
          { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
          { name: "HOST", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
          { name: "GREETING", value: "hi $(NAME)" },
        ],
      },
      { podIP: "10.0.0.2", hostIP: "192.168.1.1" },
    );
    assert.deepEqual(Object.fromEntries(env), {
      NAME: "web",
      NS: "prod",
      UID: "u-1",
      APP: "web",
      NODE: "node-1",
      SA: "sa",
      IP: "10.0.0.2",
      HOST: "192.168.1.1",
      GREETING: "hi web",
    });
  });

  test("durations", () => {
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("250ms"), 250);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration("2"), 2000);
    assert.throws(() => parseDuration("abc"));
  });

  test("podDNS per dnsPolicy", () => {
    const o = { clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local" };
    assert.deepEqual(podDNS(pod, o), {
      servers: ["10.96.0.10"],
      searches: ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local"],
      options: ["ndots:5"],
    });
    assert.equal(podDNS(pod, { ...o, clusterDNS: [] }), undefined);
    assert.equal(podDNS({ ...pod, spec: { ...pod.spec!, dnsPolicy: "Default" } }, o), undefined);
    const none = podDNS(
      {
        ...pod,
        spec: {
          ...pod.spec!,
          dnsPolicy: "None",
          dnsConfig: { nameservers: ["1.1.1.1"], searches: ["x.y"], options: [{ name: "ndots", value: "2" }] },
        },
      },
      o,
    );
    assert.deepEqual(none, { servers: ["1.1.1.1"], searches: ["x.y"], options: ["ndots:2"] });
  });

  test("serviceEnv: docker-link variables", () => {
    const env = Object.fromEntries(
      serviceEnv([
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "my-svc" },
          spec: { clusterIP: "10.96.1.2", ports: [{ name: "http", port: 80, protocol: "TCP" }] },
        },
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "headless" },
          spec: { clusterIP: "None", ports: [{ port: 1 }] },
        },
      ]),
    );
    assert.deepEqual(env, {
      MY_SVC_SERVICE_HOST: "10.96.1.2",
      MY_SVC_SERVICE_PORT: "80",
      MY_SVC_SERVICE_PORT_HTTP: "80",
      MY_SVC_PORT: "tcp://10.96.1.2:80",
      MY_SVC_PORT_80_TCP: "tcp://10.96.1.2:80",
      MY_SVC_PORT_80_TCP_PROTO: "tcp",
      MY_SVC_PORT_80_TCP_PORT: "80",
      MY_SVC_PORT_80_TCP_ADDR: "10.96.1.2",
    });
  });
});
