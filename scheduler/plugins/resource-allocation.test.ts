import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { balancedAllocation, leastAllocated } from "./resource-allocation.js";

describe("resource score plugins", () => {
  test("LeastAllocated prefers the emptier node; request-less containers count the defaults", () => {
    const empty = nodeInfo(makeNode("a", { cpu: "4", memory: "4Gi" }));
    const busy = nodeInfo(
      makeNode("b", { cpu: "4", memory: "4Gi" }),
      makePod("x", { cpu: "2", memory: "2Gi", nodeName: "b" }),
    );
    const pod = makePod("p", { cpu: "1", memory: "1Gi" });
    const nodes = [empty, busy];
    // a: cpu (4-1)/4=75, mem 75 -> 75; b: cpu (4-3)/4=25, mem 25 -> 25
    assert.equal(leastAllocated.score(new CycleState(), pod, empty, { nodes }), 75);
    assert.equal(leastAllocated.score(new CycleState(), pod, busy, { nodes }), 25);
    const bestEffortNode = nodeInfo(makeNode("c", { cpu: "1", memory: "1Gi" }), makePod("y", { nodeName: "c" }));
    // 100m of 1000m and 200Mi of 1Gi used by y, plus the same for the pod: cpu 80, mem 60 -> 70
    assert.equal(leastAllocated.score(new CycleState(), makePod("q"), bestEffortNode, { nodes }), 70);
  });

  test("BalancedAllocation prefers equal cpu and memory fractions", () => {
    const n = nodeInfo(makeNode("a", { cpu: "4", memory: "4Gi" }));
    const nodes = [n];
    assert.equal(
      balancedAllocation.score(new CycleState(), makePod("p", { cpu: "2", memory: "2Gi" }), n, { nodes }),
      100,
    );
    // cpu 1/4 = .25, mem 3/4 = .75 -> std .25 -> 75
    assert.equal(
      balancedAllocation.score(new CycleState(), makePod("q", { cpu: "1", memory: "3Gi" }), n, { nodes }),
      75,
    );
  });
});
