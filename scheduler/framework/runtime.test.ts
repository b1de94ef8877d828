import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildProfile } from "../plugins/registry.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { FitError, Framework } from "./runtime.js";
import { CycleState } from "./types.js";

describe("Framework", () => {
  test("FitError message: reasons counted and sorted, then the preemption sentence", () => {
    const fw = new Framework(buildProfile());
    const nodes = [
      nodeInfo(makeNode("a", { cpu: "1" })),
      nodeInfo(makeNode("b", { cpu: "8", labels: { disk: "hdd" } })),
    ];
    const pod = makePod("p", { cpu: "2", nodeSelector: { disk: "ssd" } });
    assert.throws(
      () => fw.schedule(new CycleState(), pod, nodes),
      (err: unknown) =>
        err instanceof FitError &&
        err.message ===
          "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    const big = makePod("q", { cpu: "16" });
    assert.throws(
      () => fw.schedule(new CycleState(), big, nodes),
      (err: unknown) =>
        err instanceof Error &&
        err.message ===
          "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    const mixed = makePod("r", { cpu: "2", nodeSelector: { "kubernetes.io/hostname": "a" } });
    assert.throws(
      () => fw.schedule(new CycleState(), mixed, nodes),
      (err: unknown) =>
        err instanceof Error &&
        err.message ===
          "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
    );
  });

  test("no nodes at all", () => {
    assert.throws(
      () => new Framework(buildProfile()).schedule(new CycleState(), makePod("p"), []),
      /no nodes available/,
    );
  });

  test("picks the highest score; ties are broken at random", () => {
    const nodes = [nodeInfo(makeNode("a")), nodeInfo(makeNode("b")), nodeInfo(makeNode("c"))];
    const seen = new Set<string>();
    for (const r of [0.0, 0.4, 0.9]) {
      let calls = 0;
      const fw = new Framework(buildProfile(), { random: () => (calls++ === 0 ? r : 0.99) });
      seen.add(fw.schedule(new CycleState(), makePod("p"), nodes).nodeName);
    }
    assert.ok(seen.size >= 2, `tie-break always picked the same node: ${[...seen]}`);
    const busy = [nodeInfo(makeNode("a"), makePod("x", { cpu: "3", nodeName: "a" })), nodeInfo(makeNode("b"))];
    assert.equal(
      new Framework(buildProfile()).schedule(new CycleState(), makePod("p", { cpu: "500m" }), busy).nodeName,
      "b",
    );
  });
});
