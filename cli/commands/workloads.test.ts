import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import { containerNameFromImage, deploymentFor, scalePreconditionError } from "./workloads.js";

describe("workload commands", () => {
  test("container names from images, as kubectl create deployment names them", () => {
    assert.equal(containerNameFromImage("nginx"), "nginx");
    assert.equal(containerNameFromImage("nginx:1.25"), "nginx");
    assert.equal(containerNameFromImage("registry.k8s.io/pause:3.9"), "pause");
    assert.equal(containerNameFromImage("kubeling.local/busybox@sha256:abc"), "busybox");
    // "_" and "." become "-", with kubectl's random 5-character suffix.
    assert.equal(
      containerNameFromImage("my_app.v2", () => 0),
      "my-app-v2-bbbbb",
    );
    assert.match(containerNameFromImage("a.b"), /^a-b-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  test("create deployment's object: replicas always set, images comma-split, port on the first, command on all", () => {
    type Shape = KubeObject & {
      spec: { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    const d = deploymentFor("web", { image: ["nginx:1,busybox"], port: "80" }) as Shape;
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(d.metadata.labels, { app: "web" });
    assert.deepEqual(
      d.spec.template.spec.containers.map((c) => [c.name, c.image, c.ports]),
      [
        ["nginx", "nginx:1", [{ containerPort: 80 }]],
        ["busybox", "busybox", undefined],
      ],
    );
    const withCommand = deploymentFor("job", { image: ["busybox"] }, ["sleep", "1"]) as Shape;
    assert.deepEqual(withCommand.spec.template.spec.containers[0]?.command, ["sleep", "1"]);
    assert.throws(() => deploymentFor("web", { image: [] }), /required flag\(s\) "image" not set/);
    assert.throws(
      () => deploymentFor("web", { image: ["a", "b"] }, ["x"]),
      /cannot specify multiple --image options and command/,
    );
    assert.equal((deploymentFor("web", { image: ["a"], replicas: "3" }).spec as { replicas: number }).replicas, 3);
  });

  test("scale preconditions in kubectl's words", () => {
    const scale = { metadata: { name: "web", resourceVersion: "7" }, spec: { replicas: 2 } };
    assert.equal(scalePreconditionError(scale, -1, ""), undefined);
    assert.equal(scalePreconditionError(scale, 2, "7"), undefined);
    assert.equal(scalePreconditionError(scale, 3, ""), "Expected replicas to be 3, was 2");
    assert.equal(scalePreconditionError(scale, -1, "6"), "Expected resource version to be 6, was 7");
  });
});
