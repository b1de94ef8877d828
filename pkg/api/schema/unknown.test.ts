import assert from "node:assert/strict";
import { test } from "node:test";
import { DeploymentSchema } from "../types/apps.js";
import { ConfigMapSchema, PodSchema, ServiceSchema } from "../types/core.js";
import { unknownFieldsBySchema } from "./unknown.js";

test("reports unknown fields with upstream paths", () => {
  const dep = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { anything: "goes" }, bogus: 1 },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            { name: "a", image: "nginx" },
            { name: "b", image: "nginx", imagePullPolic: "Always", resources: { limits: { cpu: "1" } } },
          ],
          nodeSelector: { "disk/type": "ssd" },
        },
      },
      replica: 3,
    },
  };
  assert.deepEqual(unknownFieldsBySchema(DeploymentSchema, dep), [
    "metadata.bogus",
    "spec.template.spec.containers[1].imagePullPolic",
    "spec.replica",
  ]);
});

test("free-form maps, IntOrString and quantities are not looked into", () => {
  assert.deepEqual(unknownFieldsBySchema(ConfigMapSchema, { metadata: {}, data: { "x.y": "1", z: "2" } }), []);
  assert.deepEqual(
    unknownFieldsBySchema(ServiceSchema, { spec: { ports: [{ port: 80, targetPort: "http" }], selector: { a: "b" } } }),
    [],
  );
  assert.deepEqual(
    unknownFieldsBySchema(PodSchema, { spec: { containers: [{ name: "c", resources: { requests: { cpu: 1 } } }] } }),
    [],
  );
  assert.deepEqual(unknownFieldsBySchema(PodSchema, { spc: {}, status: { phase: "x", foo: 1 } }), [
    "spc",
    "status.foo",
  ]);
});
