// The rollout decisions: rolling steps, Recreate's wait for old pods, and the status and
// conditions a step ends with.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metaTime } from "#pkg/api/time.js";
import type { Pod } from "#pkg/api/types/core.js";
import {
  DEPLOYMENT_AVAILABLE,
  DEPLOYMENT_PROGRESSING,
  DEPLOYMENT_REPLICA_FAILURE,
  FOUND_NEW_RS_REASON,
  getDeploymentCondition,
  NEW_RS_AVAILABLE_REASON,
  newDeploymentCondition,
  REPLICASET_UPDATED_REASON,
  TIMED_OUT_REASON,
} from "./conditions.js";
import { getReplicaFailures, requeueDelayMs, rolloutStatus } from "./progress.js";
import { oldPodsRunning } from "./recreate.js";
import {
  maxScaledDown,
  planCleanupUnhealthyReplicas,
  planNewReplicaSet,
  planScaleDownOldReplicaSets,
} from "./rolling.js";
import { calculateStatus, compactStatus, statusEqual } from "./sync.js";
import { deployment, replicaSet, T0 } from "./testing.js";

const names = (steps: { rs: { metadata: { name?: string } }; replicas: number }[]) =>
  steps.map((s) => [s.rs.metadata.name, s.replicas]);

describe("rolling update steps (replicas 10, maxSurge 3, maxUnavailable 2)", () => {
  const d = deployment({ replicas: 10, maxSurge: 3, maxUnavailable: 2 });

  test("the new ReplicaSet first takes the surge", () => {
    const old = replicaSet({ replicas: 10, image: "v1" });
    const fresh = replicaSet({ replicas: 0, image: "v2", available: 0 });
    assert.equal(planNewReplicaSet([old, fresh], fresh, d), 3);
  });

  test("at the surge, old ones go down by what is available above 8", () => {
    const old = replicaSet({ replicas: 10, image: "v1" });
    const fresh = replicaSet({ replicas: 3, image: "v2", available: 0 });
    assert.equal(planNewReplicaSet([old, fresh], fresh, d), undefined);
    assert.equal(maxScaledDown([old, fresh], fresh, d), 2);
    assert.deepEqual(planCleanupUnhealthyReplicas([old], 2).steps, []);
    assert.deepEqual(names(planScaleDownOldReplicaSets([old, fresh], [old], d).steps), [[old.metadata.name, 8]]);
  });

  test("unavailable new pods block further scale-down: a stuck rollout stays at 8 old + 5 new", () => {
    const old = replicaSet({ replicas: 8, image: "v1" });
    const fresh = replicaSet({ replicas: 5, image: "v2", available: 0 });
    assert.equal(planNewReplicaSet([old, fresh], fresh, d), undefined);
    assert.equal(maxScaledDown([old, fresh], fresh, d), 0);
  });

  test("unhealthy old replicas are removed first, oldest ReplicaSet first, within maxScaledDown", () => {
    const a = replicaSet({ replicas: 5, image: "v1", created: 0, available: 2 });
    const b = replicaSet({ replicas: 5, image: "v0", created: 10 });
    const fresh = replicaSet({ replicas: 0, image: "v2" });
    const max = maxScaledDown([a, b, fresh], fresh, d);
    assert.equal(max, 2);
    const cleanup = planCleanupUnhealthyReplicas([b, a], max);
    assert.deepEqual(names(cleanup.steps), [[a.metadata.name, 3]]);
    assert.equal(cleanup.total, 2);
    // Then 7 available of 8 needed: no further scale-down.
    const a3 = { ...a, spec: { ...a.spec, replicas: 3, selector: a.spec?.selector ?? {} } };
    assert.deepEqual(planScaleDownOldReplicaSets([a3, b, fresh], [a3, b], d).steps, []);
  });

  test("the new ReplicaSet above replicas goes straight down to replicas", () => {
    const fresh = replicaSet({ replicas: 12, image: "v2" });
    assert.equal(planNewReplicaSet([fresh], fresh, d), 10);
  });

  test("all old ReplicaSets are scaled down oldest first", () => {
    const a = replicaSet({ replicas: 2, image: "v0", created: 0 });
    const b = replicaSet({ replicas: 3, image: "v1", created: 10 });
    const fresh = replicaSet({ replicas: 10, image: "v2" });
    const plan = planScaleDownOldReplicaSets([a, b, fresh], [b, a], d);
    assert.deepEqual(names(plan.steps), [
      [a.metadata.name, 0],
      [b.metadata.name, 0],
    ]);
    assert.equal(plan.total, 5);
  });
});

describe("Recreate waits for old pods", () => {
  const pod = (phase: string, uid: string): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `p-${phase}`, namespace: "default", uid: `p-${uid}-${phase}` },
    status: { phase },
  });

  test("old ReplicaSets reporting pods, or an unfinished old pod, are still running", () => {
    const old = replicaSet({ replicas: 0, image: "v1", status: { replicas: 0 } });
    const fresh = replicaSet({ replicas: 0, image: "v2", status: { replicas: 0 } });
    const oldUid = old.metadata.uid ?? "";
    const newUid = fresh.metadata.uid ?? "";
    assert.ok(!oldPodsRunning(fresh, [old], new Map([[oldUid, []]])));
    assert.ok(oldPodsRunning(fresh, [old], new Map([[oldUid, [pod("Running", "o")]]])));
    assert.ok(oldPodsRunning(fresh, [old], new Map([[oldUid, [pod("Unknown", "o")]]])));
    assert.ok(oldPodsRunning(fresh, [old], new Map([[oldUid, [pod("Pending", "o")]]])));
    assert.ok(!oldPodsRunning(fresh, [old], new Map([[oldUid, [pod("Succeeded", "o"), pod("Failed", "o")]]])));
    assert.ok(
      !oldPodsRunning(fresh, [old], new Map([[newUid, [pod("Running", "n")]]])),
      "the new one's pods don't count",
    );
    const reporting = replicaSet({ replicas: 0, image: "v1", status: { replicas: 1 } });
    assert.ok(oldPodsRunning(fresh, [reporting], new Map()));
  });
});

describe("status and conditions", () => {
  test("calculateStatus sums the ReplicaSets and sets Available against replicas - maxUnavailable", () => {
    const d = deployment({ replicas: 4, maxSurge: 1, maxUnavailable: 1, generation: 3 });
    const old = replicaSet({ replicas: 1, image: "v1", available: 1 });
    const fresh = replicaSet({ replicas: 4, image: "v2", available: 2, status: { readyReplicas: 3 } });
    const st = calculateStatus([old, fresh], fresh, d, T0);
    assert.equal(st.observedGeneration, 3);
    assert.equal(st.replicas, 5);
    assert.equal(st.updatedReplicas, 4);
    assert.equal(st.readyReplicas, 4);
    assert.equal(st.availableReplicas, 3);
    assert.equal(st.unavailableReplicas, 2);
    assert.deepEqual(getDeploymentCondition(st, DEPLOYMENT_AVAILABLE), {
      type: DEPLOYMENT_AVAILABLE,
      status: "True",
      reason: "MinimumReplicasAvailable",
      message: "Deployment has minimum availability.",
      lastUpdateTime: metaTime(T0),
      lastTransitionTime: metaTime(T0),
    });
    const short = calculateStatus([replicaSet({ replicas: 4, available: 2 })], undefined, d, T0);
    assert.equal(getDeploymentCondition(short, DEPLOYMENT_AVAILABLE)?.reason, "MinimumReplicasUnavailable");
    assert.equal(short.updatedReplicas, undefined, "zero counters are omitted, as on the wire");
  });

  test("statuses compare by content, zero counters and empty conditions as absent", () => {
    assert.ok(statusEqual({ replicas: 0, conditions: [] }, {}));
    assert.ok(!statusEqual({ replicas: 1 }, {}));
    assert.deepEqual(compactStatus({ collisionCount: 0, availableReplicas: 0 }), { collisionCount: 0 });
  });

  const d = deployment({ name: "web", replicas: 3, progressDeadlineSeconds: 10, generation: 2 });
  const withCond = (reason: string, status: "True" | "False" | "Unknown", at: number) => ({
    ...d,
    status: {
      observedGeneration: 2,
      replicas: 3,
      updatedReplicas: 1,
      availableReplicas: 2,
      readyReplicas: 2,
      conditions: [newDeploymentCondition(DEPLOYMENT_PROGRESSING, status, reason, "m", at)],
    },
  });

  test("a complete rollout is NewReplicaSetAvailable", () => {
    const fresh = replicaSet({ replicas: 3, image: "v2" });
    const st = rolloutStatus([fresh], fresh, withCond(REPLICASET_UPDATED_REASON, "True", T0), T0 + 1000);
    const c = getDeploymentCondition(st, DEPLOYMENT_PROGRESSING);
    assert.equal(c?.reason, NEW_RS_AVAILABLE_REASON);
    assert.equal(c?.message, `ReplicaSet "${fresh.metadata.name}" has successfully progressed.`);
    assert.equal(c?.lastTransitionTime, metaTime(T0), "still True: transition time kept");
  });

  test("progress refreshes ReplicaSetUpdated's lastUpdateTime, keeping its lastTransitionTime", () => {
    const old = replicaSet({ replicas: 1, image: "v1" });
    const fresh = replicaSet({ replicas: 3, image: "v2", available: 2, status: { replicas: 2 } });
    const before = withCond(REPLICASET_UPDATED_REASON, "True", T0);
    const st = rolloutStatus([old, fresh], fresh, before, T0 + 4000);
    const c = getDeploymentCondition(st, DEPLOYMENT_PROGRESSING);
    assert.equal(c?.reason, REPLICASET_UPDATED_REASON);
    assert.equal(c?.message, `ReplicaSet "${fresh.metadata.name}" is progressing.`);
    assert.equal(c?.lastUpdateTime, metaTime(T0 + 4000));
    assert.equal(c?.lastTransitionTime, metaTime(T0));
  });

  test("no progress past the deadline is ProgressDeadlineExceeded; it stays so", () => {
    const old = replicaSet({ replicas: 2, image: "v1" });
    const fresh = replicaSet({ replicas: 1, image: "v2", available: 0 });
    const before = withCond(FOUND_NEW_RS_REASON, "True", T0);
    const early = rolloutStatus([old, fresh], fresh, before, T0 + 5000);
    assert.equal(getDeploymentCondition(early, DEPLOYMENT_PROGRESSING)?.reason, FOUND_NEW_RS_REASON);
    const late = rolloutStatus([old, fresh], fresh, before, T0 + 10_001);
    const c = getDeploymentCondition(late, DEPLOYMENT_PROGRESSING);
    assert.equal(c?.status, "False");
    assert.equal(c?.reason, TIMED_OUT_REASON);
    assert.equal(c?.message, `ReplicaSet "${fresh.metadata.name}" has timed out progressing.`);
    const again = rolloutStatus([old, fresh], fresh, { ...before, status: late }, T0 + 20_000);
    assert.deepEqual(getDeploymentCondition(again, DEPLOYMENT_PROGRESSING), c);
  });

  test("without a deadline there is no Progressing condition", () => {
    const none = { ...withCond(REPLICASET_UPDATED_REASON, "True", T0) };
    none.spec = { ...none.spec, selector: none.spec?.selector ?? {}, template: none.spec?.template ?? {} };
    delete none.spec.progressDeadlineSeconds;
    const fresh = replicaSet({ replicas: 3, image: "v2" });
    assert.equal(getDeploymentCondition(rolloutStatus([fresh], fresh, none, T0), DEPLOYMENT_PROGRESSING), undefined);
  });

  test("ReplicaFailure comes from the new ReplicaSet first, else any, and goes when they clear", () => {
    const failure = (message: string) => ({
      type: "ReplicaFailure",
      status: "True",
      reason: "FailedCreate",
      message,
      lastTransitionTime: metaTime(T0),
    });
    const old = replicaSet({ replicas: 1, image: "v1", status: { conditions: [failure("old")] } });
    const fresh = replicaSet({ replicas: 1, image: "v2", status: { conditions: [failure("new")] } });
    assert.equal(getReplicaFailures([old, fresh], fresh)[0]?.message, "new");
    assert.equal(getReplicaFailures([old], undefined)[0]?.message, "old");
    const st = rolloutStatus([old, fresh], fresh, withCond(REPLICASET_UPDATED_REASON, "True", T0), T0);
    const c = getDeploymentCondition(st, DEPLOYMENT_REPLICA_FAILURE);
    assert.equal(c?.message, "new");
    assert.equal(c?.lastUpdateTime, metaTime(T0));
    const healthy = replicaSet({ replicas: 3, image: "v2" });
    const cleared = rolloutStatus([healthy], healthy, { ...d, status: st }, T0);
    assert.equal(getDeploymentCondition(cleared, DEPLOYMENT_REPLICA_FAILURE), undefined);
  });

  test("the requeue for the deadline: lastUpdateTime + deadline - now, at once under a second", () => {
    const before = withCond(REPLICASET_UPDATED_REASON, "True", T0);
    const st = before.status;
    assert.equal(requeueDelayMs(before, st, T0 + 3000), 7000);
    assert.equal(requeueDelayMs(before, st, T0 + 9500), 0);
    const complete = { ...st, updatedReplicas: 3, availableReplicas: 3 };
    assert.equal(requeueDelayMs(before, complete, T0), undefined);
    assert.equal(requeueDelayMs(withCond(TIMED_OUT_REASON, "False", T0), st, T0), undefined);
  });
});

describe("ReplicaSet statuses that lag a scale-down", () => {
  const d = deployment({ replicas: 4, maxSurge: 1, maxUnavailable: 1 });

  test("an old ReplicaSet's pods above its spec do not count as available for the next scale-down", () => {
    // Old was scaled 4 -> 3; its controller has not yet reported the pod it removes.
    const old = replicaSet({ replicas: 3, image: "v1", status: { replicas: 4, availableReplicas: 4 } });
    const fresh = replicaSet({ replicas: 1, image: "v2" });
    assert.equal(maxScaledDown([old, fresh], fresh, d), 1);
    // Upstream would count 4 + 1 available and take old to 1; 3 + 1 allows one.
    assert.deepEqual(names(planScaleDownOldReplicaSets([old, fresh], [old], d).steps), [[old.metadata.name, 2]]);
    // Not mistaken for unhealthy either (upstream errors on available > spec).
    assert.deepEqual(planCleanupUnhealthyReplicas([old], 1).steps, []);
  });
});
