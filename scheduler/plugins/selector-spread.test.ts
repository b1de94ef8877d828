import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { selectorSpread } from "./selector-spread.js";

describe("PodTopologySpread (lite)", () => {
  test("nodes with fewer pods of the same owner score higher", () => {
    const nodes = [
      nodeInfo(
        makeNode("a"),
        makePod("w1", { owner: "web", nodeName: "a" }),
        makePod("w2", { owner: "web", nodeName: "a" }),
      ),
      nodeInfo(
        makeNode("b"),
        makePod("w3", { owner: "web", nodeName: "b" }),
        makePod("o1", { owner: "other", nodeName: "b" }),
      ),
      nodeInfo(makeNode("c"), makePod("o2", { owner: "other", nodeName: "c" })),
    ];
    const pod = makePod("w4", { owner: "web" });
    const state = new CycleState();
    const scores = nodes.map((n) => selectorSpread.score(state, pod, n, { nodes }));
    assert.deepEqual(scores, [2, 1, 0]);
    selectorSpread.normalizeScore?.(state, pod, scores);
    assert.deepEqual(scores, [0, 50, 100]);
  });

  test("pods without a controller are not spread", () => {
    const nodes = [nodeInfo(makeNode("a"), makePod("x", { nodeName: "a" }))];
    const state = new CycleState();
    const scores = nodes.map((n) => selectorSpread.score(state, makePod("p"), n, { nodes }));
    selectorSpread.normalizeScore?.(state, makePod("p"), scores);
    assert.deepEqual(scores, [0]);
  });
});
