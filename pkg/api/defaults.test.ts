import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultImagePullPolicy, defaultPodSpec, podQOSClass } from "./defaults.js";
import type { PodSpec } from "./types/core.js";

test("imagePullPolicy follows the tag", () => {
  assert.equal(defaultImagePullPolicy("nginx"), "Always");
  assert.equal(defaultImagePullPolicy("nginx:latest"), "Always");
  assert.equal(defaultImagePullPolicy("nginx:1.25"), "IfNotPresent");
  assert.equal(defaultImagePullPolicy("localhost:5000/nginx"), "Always");
  assert.equal(defaultImagePullPolicy("localhost:5000/nginx:v1"), "IfNotPresent");
  assert.equal(defaultImagePullPolicy("nginx@sha256:abc"), "IfNotPresent");
});

test("defaultPodSpec fills upstream defaults", () => {
  const spec: PodSpec = {
    hostNetwork: true,
    containers: [
      {
        name: "c",
        image: "x:1",
        ports: [{ containerPort: 8080 }],
        readinessProbe: { httpGet: { port: 8080 } },
        resources: { limits: { cpu: "1" } },
        env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
      },
    ],
    volumes: [{ name: "cfg", configMap: { name: "cm" } }, { name: "scratch" }],
  };
  defaultPodSpec(spec);
  assert.equal(spec.restartPolicy, "Always");
  assert.equal(spec.dnsPolicy, "ClusterFirst");
  assert.equal(spec.schedulerName, "default-scheduler");
  const c = spec.containers[0]!;
  assert.deepEqual(c.ports, [{ containerPort: 8080, protocol: "TCP", hostPort: 8080 }]);
  assert.deepEqual(c.readinessProbe, {
    httpGet: { port: 8080, path: "/", scheme: "HTTP" },
    timeoutSeconds: 1,
    periodSeconds: 10,
    successThreshold: 1,
    failureThreshold: 3,
  });
  assert.deepEqual(c.resources?.requests, { cpu: "1" });
  assert.equal(c.env?.[0]?.valueFrom?.fieldRef?.apiVersion, "v1");
  assert.equal(spec.volumes?.[0]?.configMap?.defaultMode, 420);
  assert.deepEqual(spec.volumes?.[1]?.emptyDir, {});
});

test("QoS classes", () => {
  assert.equal(podQOSClass({ containers: [{ name: "a" }] }), "BestEffort");
  assert.equal(podQOSClass({ containers: [{ name: "a", resources: { requests: { cpu: "100m" } } }] }), "Burstable");
  assert.equal(
    podQOSClass({
      containers: [
        { name: "a", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1", memory: "1Gi" } } },
      ],
    }),
    "Guaranteed",
  );
  assert.equal(
    podQOSClass({
      containers: [
        { name: "a", resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m", memory: "1Gi" } } },
      ],
    }),
    "Burstable",
  );
});
