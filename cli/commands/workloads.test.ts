import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Deployment } from "#pkg/api/types/index.js";
import { containerNameFromImage, deploymentRolloutStatus } from "./workloads.js";

describe("workload commands", () => {
  test("container names from images, as kubectl create deployment names them", () => {
    assert.equal(containerNameFromImage("nginx"), "nginx");
    assert.equal(containerNameFromImage("nginx:1.25"), "nginx");
    assert.equal(containerNameFromImage("registry.k8s.io/pause:3.9"), "pause");
    assert.equal(containerNameFromImage("kubeling.local/busybox@sha256:abc"), "busybox");
  });

  test("rollout status messages in kubectl's order", () => {
    const d = (generation: number, status: Deployment["status"], replicas = 3) =>
      ({ metadata: { name: "web", generation }, spec: { replicas }, status }) as unknown as Deployment;
    assert.equal(
      deploymentRolloutStatus(d(2, { observedGeneration: 1 })).message,
      "Waiting for deployment spec update to be observed...",
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 1, replicas: 3 })).message,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 4 })).message,
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }))
        .message,
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    );
    const done = deploymentRolloutStatus(
      d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
    );
    assert.deepEqual(done, { message: 'deployment "web" successfully rolled out', done: true });
    assert.throws(
      () =>
        deploymentRolloutStatus(
          d(1, {
            observedGeneration: 1,
            conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
          }),
        ),
      /exceeded its progress deadline/,
    );
  });
});
