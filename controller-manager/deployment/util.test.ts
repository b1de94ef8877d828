import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metaTime } from "#pkg/api/time.js";
import type { DeploymentStatus } from "#pkg/api/types/apps.js";
import {
  DEPLOYMENT_PROGRESSING,
  NEW_RS_AVAILABLE_REASON,
  newDeploymentCondition,
  REPLICASET_UPDATED_REASON,
  setDeploymentCondition,
  TIMED_OUT_REASON,
} from "./conditions.js";
import { canonicalJSON, computeHash, fnv32a, SAFE_ALPHABET, safeEncodeString } from "./hash.js";
import { deployment, replicaSet, T0, template } from "./testing.js";
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DESIRED_REPLICAS_ANNOTATION,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  equalIgnoreHash,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getDeploymentsForReplicaSet,
  getRollbackTo,
  isSaturated,
  LAST_APPLIED_CONFIG_ANNOTATION,
  lastRevision,
  MAX_REPLICAS_ANNOTATION,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  proportionalSizes,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  resolveFenceposts,
  setDeploymentAnnotationsTo,
  setNewReplicaSetAnnotations,
  setRollbackTo,
} from "./util.js";

const enc = (s: string) => new TextEncoder().encode(s);

describe("maxSurge and maxUnavailable", () => {
  test("surge rounds up, unavailable rounds down", () => {
    assert.deepEqual(resolveFenceposts("25%", "25%", 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts("25%", "25%", 1), { surge: 1, unavailable: 0 });
    assert.deepEqual(resolveFenceposts("200%", "30%", 3), { surge: 6, unavailable: 0 });
    assert.deepEqual(resolveFenceposts(2, 1, 5), { surge: 2, unavailable: 1 });
  });

  test("both resolving to 0 makes maxUnavailable 1 (surging may be impossible)", () => {
    assert.deepEqual(resolveFenceposts(0, "1%", 10), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts("0%", "0%", 0), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(undefined, undefined, 4), { surge: 0, unavailable: 1 });
  });

  test("a string that is not a percentage is an error", () => {
    assert.throws(() => resolveFenceposts("3", 0, 10), /not a percentage/);
  });

  test("of a Deployment: unavailable at most replicas, nothing for Recreate or 0 replicas", () => {
    assert.equal(maxUnavailable(deployment({ replicas: 3, maxUnavailable: 5, maxSurge: 0 })), 3);
    assert.equal(maxUnavailable(deployment({ replicas: 0 })), 0);
    assert.equal(maxSurge(deployment({ replicas: 10 })), 3);
    assert.equal(maxUnavailable(deployment({ replicas: 10 })), 2);
    const recreate = deployment({ strategy: { type: "Recreate" } });
    assert.equal(maxSurge(recreate), 0);
    assert.equal(maxUnavailable(recreate), 0);
  });
});

describe("the pod-template-hash", () => {
  test("fnv32a matches the FNV-1a test vectors", () => {
    assert.equal(fnv32a(enc("")), 0x811c9dc5);
    assert.equal(fnv32a(enc("a")), 0xe40c292c);
    assert.equal(fnv32a(enc("foobar")), 0xbf9cf968);
  });

  test("safeEncodeString uses upstream's alphabet (digits map onto 4-9, b, c, d, f)", () => {
    assert.equal(SAFE_ALPHABET, "bcdfghjklmnpqrstvwxz2456789");
    assert.equal(safeEncodeString("0123456789"), "456789bcdf");
  });

  test("computeHash is stable, independent of key order, and moved by collisionCount", () => {
    const t = template("nginx:1.25");
    const h = computeHash(t);
    assert.match(h, /^[456789bcdf]{1,10}$/);
    assert.equal(computeHash(structuredClone(t)), h);
    const reordered = {
      spec: { containers: [{ image: "nginx:1.25", name: "c" }] },
      metadata: { labels: { app: "web" } },
    };
    assert.equal(canonicalJSON(reordered), canonicalJSON(t));
    assert.equal(computeHash(reordered), h);
    assert.notEqual(computeHash(template("nginx:1.26")), h);
    assert.notEqual(computeHash(t, 0), h, "a collisionCount of 0 counts, as upstream's non-nil pointer");
    assert.notEqual(computeHash(t, 1), computeHash(t, 0));
    assert.equal(computeHash(t, 1), computeHash(t, 1));
  });
});

describe("revisions", () => {
  test("max and last revision skip unparsable ones", () => {
    const rss = [1, 3, 2].map((r) => replicaSet({ replicas: 0, revision: r, image: `v${r}` }));
    const bad = replicaSet({ replicas: 0, image: "bad" });
    bad.metadata.annotations = { [REVISION_ANNOTATION]: "x" };
    assert.equal(maxRevision([...rss, bad]), 3);
    assert.equal(lastRevision([...rss, bad]), 2);
    assert.equal(lastRevision([rss[0] ?? bad]), 0);
    assert.equal(maxRevision([]), 0);
  });

  test("a new ReplicaSet gets the revision, the replicas annotations and the Deployment's annotations", () => {
    const d = deployment({
      replicas: 3,
      annotations: {
        "kubernetes.io/change-cause": "kubectl set image",
        [REVISION_ANNOTATION]: "5",
        [LAST_APPLIED_CONFIG_ANNOTATION]: "{}",
      },
    });
    const rs = replicaSet({ replicas: 0, image: "v2" });
    assert.equal(setNewReplicaSetAnnotations(d, rs, "6", false, 2000), true);
    assert.deepEqual(rs.metadata.annotations, {
      "kubernetes.io/change-cause": "kubectl set image",
      [REVISION_ANNOTATION]: "6",
      [DESIRED_REPLICAS_ANNOTATION]: "3",
      [MAX_REPLICAS_ANNOTATION]: "4",
    });
  });

  test("a ReplicaSet whose template comes back keeps its old revisions in revision-history", () => {
    const d = deployment();
    const rs = replicaSet({ replicas: 0, revision: 1 });
    assert.equal(setNewReplicaSetAnnotations(d, rs, "3", true, 2000), true);
    assert.equal(rs.metadata.annotations?.[REVISION_ANNOTATION], "3");
    assert.equal(rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], "1");
    setNewReplicaSetAnnotations(d, rs, "5", true, 2000);
    assert.equal(rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], "1,3");
    assert.equal(
      rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION],
      undefined,
      "existing: no replicas annotations",
    );
    // Never lowered.
    assert.equal(setNewReplicaSetAnnotations(d, rs, "2", true, 2000), false);
    assert.equal(rs.metadata.annotations?.[REVISION_ANNOTATION], "5");
    // The history is bounded: the oldest entries go.
    setNewReplicaSetAnnotations(d, rs, "7", true, 3);
    assert.equal(rs.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], "3,5");
  });

  test("rollback annotations: the Deployment takes the ReplicaSet's, keeping its own revision", () => {
    const d = deployment({ annotations: { [REVISION_ANNOTATION]: "4", "kubernetes.io/change-cause": "new" } });
    const rs = replicaSet({ replicas: 0, revision: 1 });
    rs.metadata.annotations = { ...rs.metadata.annotations, "kubernetes.io/change-cause": "old", team: "a" };
    setDeploymentAnnotationsTo(d, rs);
    assert.deepEqual(d.metadata.annotations, {
      [REVISION_ANNOTATION]: "4",
      "kubernetes.io/change-cause": "old",
      team: "a",
    });
    setRollbackTo(d, { revision: 2 });
    assert.deepEqual(getRollbackTo(d), { revision: 2 });
    setRollbackTo(d, undefined);
    assert.equal(getRollbackTo(d), undefined);
  });
});

describe("which ReplicaSet is new", () => {
  test("templates compare without the hash label and with empty lists as absent", () => {
    const t = template("v1");
    const withHash = structuredClone(t);
    withHash.metadata = { labels: { app: "web", [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: "abc" } };
    assert.ok(equalIgnoreHash(t, withHash));
    const withEmpty = structuredClone(t);
    if (withEmpty.spec?.containers[0]) withEmpty.spec.containers[0].env = [];
    assert.ok(equalIgnoreHash(t, withEmpty));
    assert.ok(!equalIgnoreHash(t, template("v2")));
  });

  test("the oldest ReplicaSet with the Deployment's template is the new one; the rest are old", () => {
    const d = deployment({ image: "v2" });
    const old = replicaSet({ replicas: 2, image: "v1", created: 0 });
    const newer = replicaSet({ replicas: 1, image: "v2", created: 20, name: "web-b" });
    const oldest = replicaSet({ replicas: 0, image: "v2", created: 10, name: "web-a" });
    assert.equal(findNewReplicaSet(d, [old, newer, oldest])?.metadata.name, "web-a");
    const { requiredRSs, allOldRSs } = findOldReplicaSets(d, [old, newer, oldest]);
    assert.deepEqual(
      allOldRSs.map((r) => r.metadata.name),
      [old.metadata.name, "web-b"],
    );
    assert.deepEqual(
      requiredRSs.map((r) => r.metadata.name),
      [old.metadata.name, "web-b"],
    );
    assert.equal(findNewReplicaSet(deployment({ image: "v3" }), [old, newer]), undefined);
  });

  test("findActiveOrLatest: the one active, else the new one, else the newest; several active: none", () => {
    const a = replicaSet({ replicas: 0, image: "v1", created: 0 });
    const b = replicaSet({ replicas: 0, image: "v2", created: 10 });
    const n = replicaSet({ replicas: 0, image: "v3", created: 20 });
    assert.equal(findActiveOrLatest(n, [a, b]), n);
    assert.equal(findActiveOrLatest(undefined, [a, b]), b);
    const activeA = { ...a, spec: { ...a.spec, replicas: 2, selector: a.spec?.selector ?? {} } };
    assert.equal(findActiveOrLatest(n, [activeA, b]), activeA);
    const activeN = { ...n, spec: { ...n.spec, replicas: 1, selector: n.spec?.selector ?? {} } };
    assert.equal(findActiveOrLatest(activeN, [activeA, b]), undefined);
    assert.equal(findActiveOrLatest(undefined, []), undefined);
  });

  test("Deployments selecting a ReplicaSet: by labels, never with an empty selector", () => {
    const rs = replicaSet({ replicas: 1, owner: null });
    const d = deployment();
    const other = deployment({ name: "other" });
    if (other.spec) other.spec.selector = { matchLabels: { app: "api" } };
    const all = deployment({ name: "all" });
    if (all.spec) all.spec.selector = {};
    assert.deepEqual(
      getDeploymentsForReplicaSet([d, other, all], rs).map((x) => x.metadata.name),
      ["web"],
    );
  });

  test("isSaturated: asked for all replicas, has them, and all are available", () => {
    const d = deployment({ replicas: 3 });
    assert.ok(isSaturated(d, replicaSet({ replicas: 3, desired: 3 })));
    assert.ok(!isSaturated(d, replicaSet({ replicas: 3, desired: 3, available: 2 })));
    assert.ok(!isSaturated(d, replicaSet({ replicas: 3, desired: 4 })));
    assert.ok(!isSaturated(d, replicaSet({ replicas: 3 })));
    assert.ok(!isSaturated(d, undefined));
  });
});

describe("newRSNewReplicas", () => {
  test("RollingUpdate: up to replicas + maxSurge in all, never above replicas", () => {
    const d = deployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const old = replicaSet({ replicas: 3, image: "v1" });
    const fresh = replicaSet({ replicas: 0, image: "v2" });
    assert.equal(newRSNewReplicas(d, [old, fresh], fresh), 1);
    const d10 = deployment({ replicas: 10, maxSurge: "30%" });
    assert.equal(newRSNewReplicas(d10, [fresh], fresh), 10, "no old pods: straight to replicas");
    assert.equal(newRSNewReplicas(deployment({ strategy: { type: "Recreate" }, replicas: 4 }), [old, fresh], fresh), 4);
  });

  test("an old ReplicaSet still reporting pods of a scale-down counts at status.replicas", () => {
    const d = deployment({ replicas: 3, maxSurge: 1, maxUnavailable: 0 });
    const fresh = replicaSet({ replicas: 1, image: "v2" });
    const lagging = replicaSet({ replicas: 2, image: "v1", status: { replicas: 3 } });
    assert.equal(newRSNewReplicas(d, [lagging, fresh], fresh), 1, "3 old pods + 1 new = replicas + maxSurge");
    const caughtUp = replicaSet({ replicas: 2, image: "v1" });
    assert.equal(newRSNewReplicas(d, [caughtUp, fresh], fresh), 2);
  });
});

describe("proportional scaling", () => {
  // A rollout stuck half way (8 old, 5 new unavailable) of replicas 10, maxSurge 3.
  const old = replicaSet({ replicas: 8, image: "v1", created: 0, max: 13, desired: 10 });
  const fresh = replicaSet({ replicas: 5, image: "v2", created: 10, max: 13, desired: 10, available: 0 });

  test("scaling 10 -> 20 spreads replicas + maxSurge over the active ReplicaSets by size", () => {
    const d = deployment({ replicas: 20, maxSurge: 3, maxUnavailable: 2 });
    const { order, sizes, operation } = proportionalSizes(d, [fresh, old]);
    assert.equal(operation, "up");
    assert.deepEqual(
      order.map((r) => r.metadata.name),
      [old.metadata.name, fresh.metadata.name],
    );
    assert.equal(sizes.get(old.metadata.name ?? ""), 14);
    assert.equal(sizes.get(fresh.metadata.name ?? ""), 9);
  });

  test("scaling down takes from the larger first and never below 0; to 0 empties all", () => {
    const big = replicaSet({ replicas: 14, image: "v1", created: 0, max: 23 });
    const small = replicaSet({ replicas: 9, image: "v2", created: 10, max: 23 });
    const d = deployment({ replicas: 5, maxSurge: 3, maxUnavailable: 2 });
    const { sizes, operation } = proportionalSizes(d, [big, small]);
    assert.equal(operation, "down");
    assert.equal(sizes.get(big.metadata.name ?? ""), 5);
    assert.equal(sizes.get(small.metadata.name ?? ""), 3);
    const zero = proportionalSizes(deployment({ replicas: 0, maxSurge: 3, maxUnavailable: 2 }), [big, small]);
    assert.equal(zero.sizes.get(big.metadata.name ?? ""), 0);
    assert.equal(zero.sizes.get(small.metadata.name ?? ""), 0);
  });

  test("equal sizes: newer first when scaling up, older first when scaling down; leftovers to the first", () => {
    const a = replicaSet({ replicas: 1, image: "v1", created: 0, max: 2 });
    const b = replicaSet({ replicas: 1, image: "v2", created: 10, max: 2 });
    const up = proportionalSizes(deployment({ replicas: 2, maxSurge: 1, maxUnavailable: 0 }), [a, b]);
    assert.deepEqual(
      up.order.map((r) => r.metadata.name),
      [b.metadata.name, a.metadata.name],
    );
    // allowed 3 over 2: each takes round(1*3/2)-1 = 1 at most what is left: b +1, a +0.
    assert.equal(up.sizes.get(b.metadata.name ?? ""), 2);
    assert.equal(up.sizes.get(a.metadata.name ?? ""), 1);
    const down = proportionalSizes(deployment({ replicas: 1, maxSurge: 0, maxUnavailable: 1 }), [a, b]);
    assert.deepEqual(
      down.order.map((r) => r.metadata.name),
      [a.metadata.name, b.metadata.name],
    );
    assert.equal(down.sizes.get(a.metadata.name ?? ""), 0);
    assert.equal(down.sizes.get(b.metadata.name ?? ""), 1);
  });

  test("no max-replicas annotation: the Deployment's status.replicas is the base", () => {
    const a = replicaSet({ replicas: 4, image: "v1", created: 0 });
    const b = replicaSet({ replicas: 4, image: "v2", created: 10 });
    const d = deployment({ replicas: 16, maxSurge: 0, maxUnavailable: 1, status: { replicas: 8 } });
    const { sizes } = proportionalSizes(d, [a, b]);
    assert.equal(sizes.get(a.metadata.name ?? ""), 8);
    assert.equal(sizes.get(b.metadata.name ?? ""), 8);
  });
});

describe("progress predicates", () => {
  const progressing = (reason: string, at: number): DeploymentStatus => ({
    conditions: [newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", reason, "", at)],
  });

  test("deploymentComplete needs every replica updated and available at the observed generation", () => {
    const d = deployment({ replicas: 3, generation: 2 });
    const done = { replicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 2 };
    assert.ok(deploymentComplete(d, done));
    assert.ok(!deploymentComplete(d, { ...done, observedGeneration: 1 }));
    assert.ok(!deploymentComplete(d, { ...done, replicas: 4 }));
    assert.ok(!deploymentComplete(d, { ...done, availableReplicas: 2 }));
  });

  test("deploymentProgressing: more updated, ready or available, or fewer old replicas", () => {
    const d = deployment({ status: { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 } });
    const same = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3 };
    assert.ok(!deploymentProgressing(d, same));
    assert.ok(deploymentProgressing(d, { ...same, updatedReplicas: 2, replicas: 5 }));
    assert.ok(deploymentProgressing(d, { ...same, replicas: 3 }));
    assert.ok(deploymentProgressing(d, { ...same, readyReplicas: 4 }));
    assert.ok(deploymentProgressing(d, { ...same, availableReplicas: 4 }));
  });

  test("deploymentTimedOut: lastUpdateTime + progressDeadlineSeconds passed; never after completion", () => {
    const d = deployment({ progressDeadlineSeconds: 600 });
    const st = progressing(REPLICASET_UPDATED_REASON, T0);
    assert.ok(!deploymentTimedOut(d, st, T0 + 599_000));
    assert.ok(deploymentTimedOut(d, st, T0 + 600_001));
    assert.ok(!deploymentTimedOut(d, progressing(NEW_RS_AVAILABLE_REASON, T0), T0 + 10_000_000));
    assert.ok(deploymentTimedOut(d, progressing(TIMED_OUT_REASON, T0), T0));
    assert.ok(!deploymentTimedOut(d, {}, T0 + 10_000_000));
    const none = deployment({ progressDeadlineSeconds: 2147483647 });
    assert.ok(!deploymentTimedOut(none, st, T0 + 10_000_000_000));
  });

  test("setDeploymentCondition keeps lastTransitionTime while the status stays", () => {
    const status: DeploymentStatus = {};
    setDeploymentCondition(status, newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", "A", "a", T0));
    setDeploymentCondition(status, newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", "A", "again", T0 + 5000));
    assert.equal(status.conditions?.[0]?.message, "a", "same status and reason: unchanged");
    setDeploymentCondition(status, newDeploymentCondition(DEPLOYMENT_PROGRESSING, "True", "B", "b", T0 + 9000));
    assert.equal(status.conditions?.length, 1);
    assert.equal(status.conditions?.[0]?.lastTransitionTime, metaTime(T0));
    assert.equal(status.conditions?.[0]?.lastUpdateTime, metaTime(T0 + 9000));
    setDeploymentCondition(status, newDeploymentCondition(DEPLOYMENT_PROGRESSING, "False", "C", "c", T0 + 12_000));
    assert.equal(status.conditions?.[0]?.lastTransitionTime, metaTime(T0 + 12_000));
  });
});
