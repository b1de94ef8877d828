import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REPLICATIONCONTROLLERS } from "#pkg/api/resources.js";
import type { ReplicationController } from "#pkg/api/types/core.js";
import { strategyFor } from "../../strategies.js";
import type { Strategy } from "../../strategy.js";

const s = strategyFor(REPLICATIONCONTROLLERS) as Strategy<ReplicationController>;
const NOW = new Date("2024-05-01T12:00:00Z");

function rc(over: Partial<NonNullable<ReplicationController["spec"]>> = {}): ReplicationController {
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "web", namespace: "default", creationTimestamp: "2024-05-01T11:55:00Z" },
    spec: {
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "nginx:1" }] } },
      ...over,
    },
  };
}

/** What the store does on create: defaults, prepare, validate. */
function create(obj: ReplicationController) {
  const o = structuredClone(obj);
  s.applyDefaults(o);
  s.prepareForCreate(o);
  return { obj: o, errors: s.validate(o).map((e) => `${e.field}: ${e.message}`) };
}

describe("ReplicationController strategy", () => {
  test("a delete naming no policy orphans the pods, as core/v1's upstream default", () => {
    assert.equal(strategyFor(REPLICATIONCONTROLLERS).defaultGarbageCollectionPolicy, "OrphanDependents");
  });

  test("defaults: selector and labels from the template labels, one replica, status and generation", () => {
    const { obj, errors } = create(rc());
    assert.deepEqual(errors, []);
    assert.deepEqual(obj.spec?.selector, { app: "web" });
    assert.deepEqual(obj.metadata.labels, { app: "web" });
    assert.equal(obj.spec?.replicas, 1);
    assert.equal(obj.spec?.template?.spec?.restartPolicy, "Always");
    assert.deepEqual(obj.status, { replicas: 0 });
    assert.equal(obj.metadata.generation, 1);
    // A selector or labels of its own are kept.
    const own = rc({ selector: { app: "web" }, replicas: 0 });
    own.metadata.labels = { team: "a" };
    own.spec!.template!.metadata!.labels = { app: "web", v: "1" };
    const kept = create(own).obj;
    assert.deepEqual(kept.spec?.selector, { app: "web" });
    assert.deepEqual(kept.metadata.labels, { team: "a" });
    assert.equal(kept.spec?.replicas, 0);
  });

  test("validation messages as upstream's", () => {
    const noLabels = rc();
    delete noLabels.spec!.template!.metadata;
    assert.deepEqual(create(noLabels).errors, ["spec.selector: Required value"]);
    assert.deepEqual(create(rc({ selector: { app: "other" } })).errors, [
      'spec.template.metadata.labels: Invalid value: {"app":"web"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(create(rc({ replicas: -1, minReadySeconds: -2 })).errors, [
      "spec.minReadySeconds: Invalid value: -2: must be greater than or equal to 0",
      "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    ]);
    assert.deepEqual(create({ ...rc(), spec: { selector: { app: "web" } } }).errors, ["spec.template: Required value"]);
    const never = rc();
    never.spec!.template!.spec!.restartPolicy = "Never";
    never.spec!.template!.spec!.activeDeadlineSeconds = 5;
    assert.deepEqual(create(never).errors, [
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported",
    ]);
  });

  test("the selector may change (unlike a ReplicaSet's); status is kept on update, spec on status update", () => {
    const { obj: old } = create(rc());
    old.status = { replicas: 1 };
    const next = structuredClone(old);
    next.spec!.selector = { app: "web", v: "2" };
    next.spec!.template!.metadata!.labels = { app: "web", v: "2" };
    next.status = { replicas: 7 };
    s.applyDefaults(next);
    s.prepareForUpdate(next, old);
    assert.deepEqual(s.validateUpdate(next, old), []);
    assert.deepEqual(next.status, { replicas: 1 });
    assert.equal(next.metadata.generation, 2);
    const st = structuredClone(old);
    st.spec!.replicas = 9;
    st.status = { replicas: 1, readyReplicas: 1 };
    s.prepareForStatusUpdate(st, old);
    assert.equal(st.spec?.replicas, 1);
    assert.deepEqual(st.status, { replicas: 1, readyReplicas: 1 });
  });

  test("columns and row: NAME DESIRED CURRENT READY AGE, wide CONTAINERS IMAGES SELECTOR", () => {
    assert.deepEqual(
      s.columns.map((c) => [c.name, c.priority]),
      [
        ["Name", 0],
        ["Desired", 0],
        ["Current", 0],
        ["Ready", 0],
        ["Age", 0],
        ["Containers", 1],
        ["Images", 1],
        ["Selector", 1],
      ],
    );
    const { obj } = create(rc({ replicas: 3, selector: { tier: "f", app: "web" } }));
    obj.spec!.template!.metadata!.labels = { app: "web", tier: "f" };
    obj.status = { replicas: 2, readyReplicas: 1 };
    assert.deepEqual(s.row(obj, NOW), ["web", 3, 2, 1, "5m", "c", "nginx:1", "app=web,tier=f"]);
    assert.deepEqual(s.selectableFields(obj), { "status.replicas": "2" });
  });
});
