import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { metaTime, microTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Node, NodeCondition } from "#pkg/api/types/core.js";
import {
  computeZoneState,
  heartbeatStale,
  markConditionsUnknown,
  nextNodeHealth,
  noExecuteTaintFor,
  noScheduleTaintsDiff,
  observedReadyCondition,
  renewTimeOrder,
  zoneKey,
} from "./node-health.js";

const T0 = Date.parse("2026-01-01T00:00:00Z");
const GRACE = 40_000;

function node(o: { ready?: string; heartbeat?: number; transition?: number; taints?: Node["spec"] } = {}): Node {
  const conditions: NodeCondition[] = [];
  if (o.ready !== undefined) {
    conditions.push(
      { type: "MemoryPressure", status: "False", lastHeartbeatTime: metaTime(o.heartbeat ?? T0) },
      {
        type: "Ready",
        status: o.ready,
        reason: "KubeletReady",
        message: "kubelet is posting ready status",
        lastHeartbeatTime: metaTime(o.heartbeat ?? T0),
        lastTransitionTime: metaTime(o.transition ?? T0),
      },
    );
  }
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name: "n1", uid: "u1", creationTimestamp: metaTime(T0 - 3_600_000) },
    spec: o.taints ?? {},
    status: { conditions },
  };
}

function lease(renew: number): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "n1", namespace: "kube-node-lease" },
    spec: { holderIdentity: "n1", leaseDurationSeconds: 40, renewTime: microTime(renew) },
  };
}

describe("nextNodeHealth: lease age and Ready heartbeat → staleness", () => {
  test("a node seen first starts its grace period now, then goes stale after it", () => {
    const h = nextNodeHealth(undefined, node({ ready: "True", heartbeat: T0 - 600_000 }), undefined, T0);
    assert.equal(h.probeTimestamp, T0, "the controller's own clock, not the (maybe skewed) heartbeat");
    assert.equal(heartbeatStale(h, GRACE, T0 + GRACE), false);
    assert.equal(heartbeatStale(h, GRACE, T0 + GRACE + 1), true);
  });

  test("a renewed Lease moves the probe time; an unrenewed one does not", () => {
    const n = node({ ready: "True" });
    let h = nextNodeHealth(undefined, n, lease(T0), T0);
    h = nextNodeHealth(h, n, lease(T0 + 10_000), T0 + 10_000);
    assert.equal(h.probeTimestamp, T0 + 10_000);
    // 40 s later, the same lease and the same heartbeat: stale.
    h = nextNodeHealth(h, n, lease(T0 + 10_000), T0 + 50_001);
    assert.equal(h.probeTimestamp, T0 + 10_000);
    assert.equal(heartbeatStale(h, GRACE, T0 + 50_001), true);
  });

  test("a new Ready heartbeat moves the probe time; a new transition moves the transition time", () => {
    let h = nextNodeHealth(undefined, node({ ready: "True", heartbeat: T0 }), undefined, T0);
    h = nextNodeHealth(h, node({ ready: "True", heartbeat: T0 + 10_000 }), undefined, T0 + 12_000);
    assert.equal(h.probeTimestamp, T0 + 12_000);
    assert.equal(h.readyTransitionTimestamp, T0, "same transition");
    h = nextNodeHealth(
      h,
      node({ ready: "False", heartbeat: T0 + 20_000, transition: T0 + 20_000 }),
      undefined,
      T0 + 21_000,
    );
    assert.equal(h.readyTransitionTimestamp, T0 + 21_000);
  });

  test("a node that never posted status counts from its creation, with the startup grace period", () => {
    const n = node();
    const h = nextNodeHealth(undefined, n, undefined, T0);
    assert.equal(h.probeTimestamp, T0 - 3_600_000);
    const o = observedReadyCondition(n, { gracePeriodMs: GRACE, startupGracePeriodMs: 60_000 });
    assert.equal(o.present, false);
    assert.equal(o.gracePeriodMs, 60_000);
    assert.equal(o.condition.status, "Unknown");
  });

  test("MicroTime renewals order below a millisecond", () => {
    assert.ok(renewTimeOrder("2026-01-01T00:00:00.000001Z") < renewTimeOrder("2026-01-01T00:00:00.000002Z"));
    assert.ok(renewTimeOrder(undefined) < renewTimeOrder("2026-01-01T00:00:00Z"));
  });
});

describe("markConditionsUnknown", () => {
  test("Ready and the pressure conditions go Unknown with upstream's reason and message", () => {
    const n = node({ ready: "True" });
    const out = markConditionsUnknown(n, T0 + 50_000);
    const ready = out.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "Unknown");
    assert.equal(ready?.reason, "NodeStatusUnknown");
    assert.equal(ready?.message, "Kubelet stopped posting node status.");
    assert.equal(ready?.lastTransitionTime, metaTime(T0 + 50_000));
    assert.equal(ready?.lastHeartbeatTime, metaTime(T0), "the heartbeat stays the kubelet's last");
    const mem = out.status?.conditions?.find((c) => c.type === "MemoryPressure");
    assert.equal(mem?.status, "Unknown");
    const disk = out.status?.conditions?.find((c) => c.type === "DiskPressure");
    assert.equal(disk?.reason, "NodeStatusNeverUpdated");
    assert.equal(disk?.message, "Kubelet never posted node status.");
    assert.equal(n.status?.conditions?.[1]?.status, "True", "the input is not changed");
  });

  test("an Unknown condition keeps its transition time", () => {
    const n = markConditionsUnknown(node({ ready: "True" }), T0 + 50_000);
    const again = markConditionsUnknown(n, T0 + 90_000);
    assert.deepEqual(again.status?.conditions, n.status?.conditions);
  });
});

describe("taints the conditions call for", () => {
  test("NoSchedule: not-ready for False, unreachable for Unknown, unschedulable, pressures; others kept", () => {
    const unknown = markConditionsUnknown(node({ ready: "True" }), T0);
    assert.deepEqual(noScheduleTaintsDiff(unknown), {
      add: [{ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }],
      remove: [],
    });
    const cordoned: Node = {
      ...node({ ready: "False" }),
      spec: {
        unschedulable: true,
        taints: [
          { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" },
          { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
          { key: "dedicated", value: "gpu", effect: "NoSchedule" },
        ],
      },
    };
    assert.deepEqual(noScheduleTaintsDiff(cordoned), {
      add: [
        { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" },
        { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" },
      ],
      remove: [{ key: "node.kubernetes.io/unreachable", effect: "NoSchedule" }],
    });
    const healthy: Node = {
      ...node({ ready: "True" }),
      spec: { taints: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }] },
    };
    assert.deepEqual(noScheduleTaintsDiff(healthy), {
      add: [],
      remove: [{ key: "node.kubernetes.io/not-ready", effect: "NoSchedule" }],
    });
  });

  test("NoExecute: not-ready and unreachable are exclusive; none for Ready", () => {
    assert.deepEqual(noExecuteTaintFor("Unknown"), {
      add: { key: "node.kubernetes.io/unreachable", effect: "NoExecute" },
      remove: { key: "node.kubernetes.io/not-ready", effect: "NoExecute" },
    });
    assert.equal(noExecuteTaintFor("False")?.add.key, "node.kubernetes.io/not-ready");
    assert.equal(noExecuteTaintFor("True"), undefined);
  });
});

describe("zones", () => {
  const c = (status: string): NodeCondition => ({ type: "Ready", status });
  test("computeZoneState", () => {
    assert.deepEqual(computeZoneState([c("Unknown"), c("False")], 0.55), { unhealthy: 2, state: "FullDisruption" });
    assert.deepEqual(computeZoneState([c("True"), c("Unknown")], 0.55), { unhealthy: 1, state: "Normal" });
    assert.deepEqual(computeZoneState([c("True"), c("Unknown"), c("Unknown"), c("Unknown")], 0.55), {
      unhealthy: 3,
      state: "PartialDisruption",
    });
    assert.deepEqual(computeZoneState([c("True"), c("True"), undefined, c("Unknown"), c("Unknown")], 0.55), {
      unhealthy: 3,
      state: "PartialDisruption",
    });
    assert.deepEqual(computeZoneState([], 0.55), { unhealthy: 0, state: "Normal" });
  });

  test("zoneKey from the topology labels", () => {
    assert.equal(zoneKey(node()), "");
    const n = node();
    n.metadata.labels = { "topology.kubernetes.io/region": "r", "topology.kubernetes.io/zone": "z" };
    assert.equal(zoneKey(n), "r:\x00:z");
  });
});
