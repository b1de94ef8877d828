import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PODDISRUPTIONBUDGETS } from "#pkg/api/resources.js";
import type { PodDisruptionBudget } from "#pkg/api/types/policy.js";
import { podDisruptionBudgetStrategy, validatePodDisruptionBudget } from "./strategy.js";

const s = podDisruptionBudgetStrategy(PODDISRUPTIONBUDGETS);

const pdb = (spec: PodDisruptionBudget["spec"]): PodDisruptionBudget => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "web", namespace: "default", creationTimestamp: "2024-05-01T11:55:00Z" },
  spec,
});

const messages = (p: PodDisruptionBudget) => validatePodDisruptionBudget(p).map((e) => `${e.field}: ${e.message}`);

describe("PodDisruptionBudget validation", () => {
  test("minAvailable and maxUnavailable are mutually exclusive, with upstream's message", () => {
    const errs = validatePodDisruptionBudget(pdb({ minAvailable: 1, maxUnavailable: 1 }));
    assert.equal(errs.length, 1);
    assert.equal(errs[0]?.field, "spec");
    assert.match(errs[0]?.message ?? "", /: minAvailable and maxUnavailable cannot be both set$/);
  });

  test("int-or-percent: non-negative ints, well-formed percentages up to 100%", () => {
    assert.deepEqual(messages(pdb({ minAvailable: 2, selector: { matchLabels: { app: "web" } } })), []);
    assert.deepEqual(messages(pdb({ maxUnavailable: "100%" })), []);
    assert.deepEqual(messages(pdb({ minAvailable: -1 })), [
      "spec.minAvailable: Invalid value: -1: must be greater than or equal to 0",
    ]);
    assert.deepEqual(messages(pdb({ maxUnavailable: "101%" })), [
      'spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%',
    ]);
    assert.deepEqual(messages(pdb({ minAvailable: "half" })), [
      "spec.minAvailable: Invalid value: \"half\": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
  });

  test("selector and unhealthyPodEvictionPolicy", () => {
    assert.deepEqual(messages(pdb({ selector: { matchExpressions: [{ key: "app", operator: "Is" }] } })), [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Is": not a valid selector operator',
    ]);
    assert.deepEqual(messages(pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: "AlwaysAllow" })), []);
    assert.deepEqual(messages(pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: "Never" })), [
      'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"',
    ]);
  });
});

describe("PodDisruptionBudget strategy", () => {
  test("create: zero status counters, generation 1, no default eviction policy", () => {
    const p = pdb({ minAvailable: 1 });
    p.status = { disruptionsAllowed: 5, currentHealthy: 5, desiredHealthy: 0, expectedPods: 5 };
    s.applyDefaults(p);
    s.prepareForCreate(p);
    assert.deepEqual(p.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
    assert.equal(p.metadata.generation, 1);
    assert.equal(p.spec?.unhealthyPodEvictionPolicy, undefined);
  });

  test("a spec change moves generation; a status update keeps the spec and checks the counters", () => {
    const old = pdb({ minAvailable: 1 });
    old.metadata.generation = 1;
    old.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    const next = structuredClone(old);
    next.spec = { minAvailable: 2 };
    next.status = { disruptionsAllowed: 9, currentHealthy: 9, desiredHealthy: 9, expectedPods: 9 };
    s.prepareForUpdate(next, old);
    assert.equal(next.metadata.generation, 2);
    assert.equal(next.status.disruptionsAllowed, 0);

    const st = structuredClone(old);
    st.spec = { minAvailable: 7 };
    st.status = { disruptionsAllowed: -1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 };
    s.prepareForStatusUpdate(st, old);
    assert.deepEqual(st.spec, { minAvailable: 1 });
    assert.deepEqual(
      s.validateUpdate(st, old).map((e) => e.field),
      ["status.disruptionsAllowed"],
    );
    st.status.disruptionsAllowed = 1;
    st.status.conditions = [{ type: "DisruptionAllowed", status: "Maybe", reason: "", message: "" }];
    assert.deepEqual(
      s.validateUpdate(st, old).map((e) => e.field),
      ["status.conditions[0].status", "status.conditions[0].lastTransitionTime", "status.conditions[0].reason"],
    );
  });

  test("columns: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE", () => {
    assert.deepEqual(
      s.columns.map((c) => c.name),
      ["Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"],
    );
    const p = pdb({ maxUnavailable: "50%" });
    p.status = { disruptionsAllowed: 2, currentHealthy: 4, desiredHealthy: 2, expectedPods: 4 };
    assert.deepEqual(s.row(p, new Date("2024-05-01T12:00:00Z")), ["web", "N/A", "50%", 2, "5m"]);
    assert.deepEqual(s.row(pdb({ minAvailable: 1 }), new Date("2024-05-01T12:00:00Z")), ["web", "1", "N/A", 0, "5m"]);
  });
});
