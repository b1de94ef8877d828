import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { nodeName } from "./node-name.js";
import { nodeUnschedulable } from "./node-unschedulable.js";

describe("NodeUnschedulable", () => {
  test("a cordoned node rejects pods that do not tolerate the unschedulable taint", () => {
    const n = nodeInfo(makeNode("n", { unschedulable: true }));
    const s = nodeUnschedulable.filter(new CycleState(), makePod("p"), n);
    assert.deepEqual([s.code, s.reasons], ["UnschedulableAndUnresolvable", ["node(s) were unschedulable"]]);
    const tolerating = makePod("d", {
      spec: {
        containers: [{ name: "c" }],
        tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }],
      },
    });
    assert.equal(nodeUnschedulable.filter(new CycleState(), tolerating, n).code, "Success");
    assert.equal(nodeUnschedulable.filter(new CycleState(), makePod("p"), nodeInfo(makeNode("m"))).code, "Success");
  });
});

describe("NodeName", () => {
  test("a pod naming a node fits only that node", () => {
    const pod = makePod("p", { nodeName: "a" });
    assert.equal(nodeName.filter(new CycleState(), pod, nodeInfo(makeNode("a"))).code, "Success");
    const s = nodeName.filter(new CycleState(), pod, nodeInfo(makeNode("b")));
    assert.deepEqual(s.reasons, ["node(s) didn't match the requested node name"]);
    assert.equal(nodeName.filter(new CycleState(), makePod("q"), nodeInfo(makeNode("b"))).code, "Success");
  });
});
