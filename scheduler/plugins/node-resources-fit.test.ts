import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { podRequests } from "../framework/resources.js";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { nodeResourcesFit } from "./node-resources-fit.js";

describe("NodeResourcesFit", () => {
  test("fits when requests are within allocatable minus what is already requested", () => {
    const n = nodeInfo(makeNode("n", { cpu: "2" }), makePod("a", { cpu: "1500m", nodeName: "n" }));
    assert.equal(nodeResourcesFit.filter(new CycleState(), makePod("p", { cpu: "500m" }), n).code, "Success");
    const s = nodeResourcesFit.filter(new CycleState(), makePod("q", { cpu: "501m" }), n);
    assert.deepEqual([s.code, s.reasons], ["Unschedulable", ["Insufficient cpu"]]);
  });

  test("reports every insufficient resource in upstream order", () => {
    const n = nodeInfo(makeNode("n", { cpu: "1", memory: "1Gi" }));
    const s = nodeResourcesFit.filter(new CycleState(), makePod("p", { cpu: "2", memory: "2Gi" }), n);
    assert.deepEqual(s.reasons, ["Insufficient cpu", "Insufficient memory"]);
  });

  test("counts pods against allocatable pods", () => {
    const n = nodeInfo(makeNode("n", { pods: "1" }), makePod("a", { nodeName: "n" }));
    assert.deepEqual(nodeResourcesFit.filter(new CycleState(), makePod("p"), n).reasons, ["Too many pods"]);
  });

  test("pod requests: containers summed, init containers as a maximum, sidecars added", () => {
    const pod = makePod("p", {
      spec: {
        containers: [
          { name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" } } },
          { name: "b", resources: { requests: { cpu: "200m" } } },
        ],
        initContainers: [
          { name: "init", resources: { requests: { cpu: "1" } } },
          { name: "side", restartPolicy: "Always", resources: { requests: { cpu: "50m" } } },
        ],
      },
    });
    // steady state: 300m + 50m sidecar = 350m; init peak: 1000m (before the sidecar starts).
    assert.deepEqual(podRequests(pod), { cpu: 1000, memory: 64 * 1024 * 1024 });
    const nz = podRequests(makePod("e"), { nonZero: true });
    assert.deepEqual(nz, { cpu: 100, memory: 200 * 1024 * 1024 });
  });

  test("requests of removed pods are released", () => {
    const n = nodeInfo(makeNode("n", { cpu: "1" }), makePod("a", { cpu: "1", nodeName: "n" }));
    assert.equal(nodeResourcesFit.filter(new CycleState(), makePod("p", { cpu: "1" }), n).code, "Unschedulable");
    n.removePod("default/a");
    assert.equal(nodeResourcesFit.filter(new CycleState(), makePod("p", { cpu: "1" }), n).code, "Success");
  });
});
