import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Toleration } from "#pkg/api/types/index.js";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { taintTolerationFilter, taintTolerationScore, tolerationTolerates } from "./taint-toleration.js";

const tolerating = (...tolerations: Toleration[]) =>
  makePod("p", { spec: { containers: [{ name: "c" }], tolerations } });

describe("TaintToleration", () => {
  const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" };

  test("toleration matching: Equal compares values, Exists ignores them, empty key+Exists tolerates all", () => {
    assert.equal(tolerationTolerates({ key: "dedicated", value: "gpu", effect: "NoSchedule" }, taint), true);
    assert.equal(tolerationTolerates({ key: "dedicated", operator: "Equal", value: "cpu" }, taint), false);
    assert.equal(tolerationTolerates({ key: "dedicated", operator: "Exists" }, taint), true);
    assert.equal(tolerationTolerates({ key: "dedicated", operator: "Exists", effect: "NoExecute" }, taint), false);
    assert.equal(tolerationTolerates({ operator: "Exists" }, taint), true);
    assert.equal(tolerationTolerates({ key: "other", operator: "Exists" }, taint), false);
  });

  test("NoSchedule and NoExecute taints need a toleration; PreferNoSchedule does not", () => {
    const n = nodeInfo(makeNode("n", { taints: [taint] }));
    const s = taintTolerationFilter.filter(new CycleState(), makePod("p"), n);
    assert.deepEqual(
      [s.code, s.reasons],
      ["UnschedulableAndUnresolvable", ["node(s) had untolerated taint {dedicated: gpu}"]],
    );
    assert.equal(
      taintTolerationFilter.filter(new CycleState(), tolerating({ key: "dedicated", operator: "Exists" }), n).code,
      "Success",
    );
    const ne = nodeInfo(makeNode("m", { taints: [{ key: "k", effect: "NoExecute" }] }));
    assert.equal(taintTolerationFilter.filter(new CycleState(), makePod("p"), ne).code, "UnschedulableAndUnresolvable");
    const pref = nodeInfo(makeNode("o", { taints: [{ key: "k", effect: "PreferNoSchedule" }] }));
    assert.equal(taintTolerationFilter.filter(new CycleState(), makePod("p"), pref).code, "Success");
  });

  test("score: fewer intolerable PreferNoSchedule taints score higher", () => {
    const nodes = [
      nodeInfo(makeNode("a")),
      nodeInfo(makeNode("b", { taints: [{ key: "x", effect: "PreferNoSchedule" }] })),
      nodeInfo(
        makeNode("c", {
          taints: [
            { key: "x", effect: "PreferNoSchedule" },
            { key: "y", effect: "PreferNoSchedule" },
          ],
        }),
      ),
    ];
    const pod = tolerating({ key: "y", operator: "Exists", effect: "PreferNoSchedule" });
    const state = new CycleState();
    const scores = nodes.map((n) => taintTolerationScore.score(state, pod, n, { nodes }));
    assert.deepEqual(scores, [0, 1, 1]);
    taintTolerationScore.normalizeScore?.(state, pod, scores);
    assert.deepEqual(scores, [100, 0, 0]);
  });
});
