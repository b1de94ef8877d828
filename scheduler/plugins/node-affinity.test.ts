import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeAffinity } from "#pkg/api/types/index.js";
import { CycleState } from "../framework/types.js";
import { makeNode, makePod, nodeInfo } from "../testing.js";
import { nodeAffinityFilter, nodeAffinityScore, requirementMatches } from "./node-affinity.js";

const withAffinity = (nodeAffinity: NodeAffinity, nodeSelector?: Record<string, string>) =>
  makePod("p", {
    ...(nodeSelector ? { nodeSelector } : {}),
    spec: { containers: [{ name: "c" }], affinity: { nodeAffinity } },
  });

describe("NodeAffinity", () => {
  const ssd = nodeInfo(makeNode("ssd", { labels: { disk: "ssd", cores: "16" } }));
  const hdd = nodeInfo(makeNode("hdd", { labels: { disk: "hdd", cores: "4" } }));

  test("nodeSelector must match every label", () => {
    const pod = makePod("p", { nodeSelector: { disk: "ssd" } });
    assert.equal(nodeAffinityFilter.filter(new CycleState(), pod, ssd).code, "Success");
    const s = nodeAffinityFilter.filter(new CycleState(), pod, hdd);
    assert.deepEqual(
      [s.code, s.reasons],
      ["UnschedulableAndUnresolvable", ["node(s) didn't match Pod's node affinity/selector"]],
    );
  });

  test("operators In/NotIn/Exists/DoesNotExist/Gt/Lt", () => {
    const labels = { disk: "ssd", cores: "16" };
    assert.equal(requirementMatches({ key: "disk", operator: "In", values: ["ssd", "nvme"] }, labels), true);
    assert.equal(requirementMatches({ key: "disk", operator: "NotIn", values: ["ssd"] }, labels), false);
    assert.equal(requirementMatches({ key: "zone", operator: "NotIn", values: ["a"] }, labels), true);
    assert.equal(requirementMatches({ key: "disk", operator: "Exists" }, labels), true);
    assert.equal(requirementMatches({ key: "disk", operator: "DoesNotExist" }, labels), false);
    assert.equal(requirementMatches({ key: "cores", operator: "Gt", values: ["8"] }, labels), true);
    assert.equal(requirementMatches({ key: "cores", operator: "Lt", values: ["8"] }, labels), false);
    assert.equal(requirementMatches({ key: "disk", operator: "Gt", values: ["8"] }, labels), false);
  });

  test("required terms are ORed, expressions in a term ANDed; matchFields on metadata.name", () => {
    const pod = withAffinity({
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: "disk", operator: "In", values: ["ssd"] },
              { key: "cores", operator: "Gt", values: ["32"] },
            ],
          },
          { matchFields: [{ key: "metadata.name", operator: "In", values: ["hdd"] }] },
        ],
      },
    });
    assert.equal(nodeAffinityFilter.filter(new CycleState(), pod, ssd).code, "UnschedulableAndUnresolvable");
    assert.equal(nodeAffinityFilter.filter(new CycleState(), pod, hdd).code, "Success");
    // nodeSelector and affinity must both hold.
    const both = withAffinity(
      {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "disk", operator: "Exists" }] }],
        },
      },
      { disk: "hdd" },
    );
    assert.equal(nodeAffinityFilter.filter(new CycleState(), both, ssd).code, "UnschedulableAndUnresolvable");
    assert.equal(nodeAffinityFilter.filter(new CycleState(), both, hdd).code, "Success");
  });

  test("preferred terms add their weights; normalized to 100 for the best", () => {
    const pod = withAffinity({
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 80, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
        { weight: 20, preference: { matchExpressions: [{ key: "cores", operator: "Exists" }] } },
      ],
    });
    const nodes = [ssd, hdd, nodeInfo(makeNode("bare"))];
    const state = new CycleState();
    const scores = nodes.map((n) => nodeAffinityScore.score(state, pod, n, { nodes }));
    assert.deepEqual(scores, [100, 20, 0]);
    nodeAffinityScore.normalizeScore?.(state, pod, scores);
    assert.deepEqual(scores, [100, 20, 0]);
  });
});
