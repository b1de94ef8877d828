import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metaTime } from "#pkg/api/time.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PodDisruptionBudget } from "#pkg/api/types/policy.js";
import {
  buildDisruptedPodMap,
  countHealthyPods,
  DELETION_TIMEOUT_MS,
  expectedPodCount,
  nextStatus,
} from "./budget-status.js";

const NOW = Date.parse("2024-05-01T12:00:00Z");

function pod(name: string, o: { ready?: boolean; deleting?: boolean } = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...(o.deleting ? { deletionTimestamp: metaTime(NOW) } : {}) },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

const pdb = (spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "b", namespace: "default", generation: 2 },
  spec,
  ...(status ? { status } : {}),
});

const pods = (n: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`));
const scaleOf = (expectedCount: number) => async () => ({ expectedCount, unmanagedPods: [] });
const noScale = async () => {
  throw new Error("scale asked for");
};

describe("expectedPodCount", () => {
  test("an integer minAvailable counts the pods there are, without asking for the scale", async () => {
    assert.deepEqual(await expectedPodCount(pdb({ minAvailable: 2 }), pods(3), noScale), {
      expectedCount: 3,
      desiredHealthy: 2,
      unmanagedPods: [],
    });
  });

  test("a percentage minAvailable is taken of the controllers' scale, rounded up", async () => {
    const r = await expectedPodCount(pdb({ minAvailable: "50%" }), pods(2), scaleOf(3));
    assert.deepEqual([r.expectedCount, r.desiredHealthy], [3, 2]);
    const r2 = await expectedPodCount(pdb({ minAvailable: "10%" }), pods(2), scaleOf(11));
    assert.deepEqual([r2.expectedCount, r2.desiredHealthy], [11, 2]);
  });

  test("maxUnavailable (rounded up when a percentage) is taken off the scale, never below 0", async () => {
    const cases: Array<[number | string, number, number]> = [
      [1, 3, 2],
      ["50%", 3, 1],
      ["34%", 10, 6],
      ["100%", 4, 0],
      [5, 3, 0],
      ["0%", 4, 4],
    ];
    for (const [maxUnavailable, scale, desired] of cases) {
      const r = await expectedPodCount(pdb({ maxUnavailable }), pods(scale), scaleOf(scale));
      assert.deepEqual([r.expectedCount, r.desiredHealthy], [scale, desired], `${maxUnavailable} of ${scale}`);
    }
  });

  test("no minAvailable nor maxUnavailable: nothing expected", async () => {
    assert.deepEqual(await expectedPodCount(pdb({}), pods(2), noScale), {
      expectedCount: 0,
      desiredHealthy: 0,
      unmanagedPods: [],
    });
  });
});

describe("healthy pods and admitted evictions", () => {
  test("countHealthyPods: ready pods, not deleting, not an eviction still expected to land", () => {
    const ps = [pod("a"), pod("b", { ready: false }), pod("c", { deleting: true }), pod("d"), pod("e")];
    const disrupted = { d: metaTime(NOW - 1000), e: metaTime(NOW - DELETION_TIMEOUT_MS - 1000) };
    assert.equal(countHealthyPods(ps, disrupted, NOW), 2); // a, and e whose eviction timed out
  });

  test("buildDisruptedPodMap keeps pending entries, drops landed and timed-out ones, rechecks at the earliest", () => {
    const ps = [pod("recent"), pod("older"), pod("expired"), pod("deleting", { deleting: true })];
    const b = pdb(
      { minAvailable: 1 },
      {
        disruptionsAllowed: 0,
        currentHealthy: 0,
        desiredHealthy: 0,
        expectedPods: 0,
        disruptedPods: {
          recent: metaTime(NOW - 10_000),
          older: metaTime(NOW - 60_000),
          expired: metaTime(NOW - DELETION_TIMEOUT_MS - 1000),
          deleting: metaTime(NOW - 1000),
          gone: metaTime(NOW - 1000),
        },
      },
    );
    const r = buildDisruptedPodMap(ps, b, NOW);
    assert.deepEqual(Object.keys(r.disruptedPods).sort(), ["older", "recent"]);
    assert.deepEqual(
      r.notDeleted.map((p) => p.metadata.name),
      ["expired"],
    );
    assert.equal(r.recheckAtMs, NOW - 60_000 + DELETION_TIMEOUT_MS);
    assert.equal(buildDisruptedPodMap(ps, pdb({ minAvailable: 1 }), NOW).recheckAtMs, undefined);
  });
});

describe("nextStatus", () => {
  test("disruptionsAllowed = healthy - desired, 0 while no pods are expected, with the condition", () => {
    const s = nextStatus(pdb({ minAvailable: 1 }), { currentHealthy: 3, desiredHealthy: 1, expectedCount: 3 }, {}, NOW);
    assert.equal(s?.disruptionsAllowed, 2);
    assert.equal(s?.observedGeneration, 2);
    assert.equal(s?.disruptedPods, undefined);
    assert.deepEqual(s?.conditions, [
      {
        type: "DisruptionAllowed",
        status: "True",
        reason: "SufficientPods",
        message: "",
        observedGeneration: 2,
        lastTransitionTime: "2024-05-01T12:00:00Z",
      },
    ]);
    const none = nextStatus(
      pdb({ minAvailable: 0 }),
      { currentHealthy: 2, desiredHealthy: 0, expectedCount: 0 },
      {},
      NOW,
    );
    assert.equal(none?.disruptionsAllowed, 0);
    assert.equal(none?.conditions?.[0]?.reason, "InsufficientPods");
    const short = nextStatus(
      pdb({ minAvailable: 3 }),
      { currentHealthy: 2, desiredHealthy: 3, expectedCount: 3 },
      {},
      NOW,
    );
    assert.equal(short?.disruptionsAllowed, 0);
  });

  test("nothing to write when the stored status already says it", () => {
    const counts = { currentHealthy: 3, desiredHealthy: 1, expectedCount: 3 };
    const b = pdb({ minAvailable: 1 });
    b.status = nextStatus(b, counts, {}, NOW);
    assert.equal(nextStatus(b, counts, {}, NOW + 5000), undefined);
    // A spec change (generation) or a new admitted eviction is something to write; the
    // condition's transition time stays while its status does.
    const moved = { ...b, metadata: { ...b.metadata, generation: 3 } };
    const s = nextStatus(moved, counts, {}, NOW + 5000);
    assert.equal(s?.observedGeneration, 3);
    assert.equal(s?.conditions?.[0]?.lastTransitionTime, "2024-05-01T12:00:00Z");
    assert.ok(nextStatus(b, counts, { p0: metaTime(NOW) }, NOW));
  });
});
