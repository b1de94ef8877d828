import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { DaemonSet } from "#pkg/api/types/apps.js";
import type { Node, Pod } from "#pkg/api/types/core.js";
import {
  daemonPodTolerations,
  isPodUpdated,
  nodeShouldRunDaemonPod,
  replaceNodeNameAffinity,
  rollingBudgets,
  targetNodeName,
  withDaemonTolerations,
} from "./util.js";

const ds = (spec: Partial<NonNullable<DaemonSet["spec"]>> = {}, podSpec: Record<string, unknown> = {}): DaemonSet => ({
  apiVersion: "apps/v1",
  kind: "DaemonSet",
  metadata: { name: "d", namespace: "default", uid: "u1" },
  spec: {
    selector: { matchLabels: { app: "d" } },
    template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "x" }], ...podSpec } },
    ...spec,
  },
});

const node = (
  name: string,
  o: { labels?: Record<string, string>; taints?: NonNullable<Node["spec"]>["taints"] } = {},
): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
  spec: o.taints ? { taints: o.taints } : {},
});

describe("nodeShouldRunDaemonPod", () => {
  test("a plain node runs it; nodeSelector and node affinity must match", () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node("a"), ds()), { shouldRun: true, shouldContinueRunning: true });
    const sel = ds({}, { nodeSelector: { disk: "ssd" } });
    assert.equal(nodeShouldRunDaemonPod(node("a"), sel).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node("a", { labels: { disk: "ssd" } }), sel).shouldRun, true);
    const aff = ds(
      {},
      {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] }],
            },
          },
        },
      },
    );
    assert.equal(nodeShouldRunDaemonPod(node("a", { labels: { zone: "z2" } }), aff).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(node("a", { labels: { zone: "z1" } }), aff).shouldRun, true);
  });

  test("NoSchedule taints keep new pods off but let running ones stay; NoExecute evicts; tolerations help", () => {
    const tainted = node("a", { taints: [{ key: "dedicated", value: "x", effect: "NoSchedule" }] });
    assert.deepEqual(nodeShouldRunDaemonPod(tainted, ds()), { shouldRun: false, shouldContinueRunning: true });
    const noExec = node("a", { taints: [{ key: "dedicated", value: "x", effect: "NoExecute" }] });
    assert.deepEqual(nodeShouldRunDaemonPod(noExec, ds()), { shouldRun: false, shouldContinueRunning: false });
    const tolerating = ds({}, { tolerations: [{ key: "dedicated", operator: "Exists" }] });
    assert.equal(nodeShouldRunDaemonPod(tainted, tolerating).shouldRun, true);
    assert.equal(nodeShouldRunDaemonPod(noExec, tolerating).shouldRun, true);
  });

  test("the daemon tolerations cover not-ready, unreachable, pressure and unschedulable taints", () => {
    for (const [key, effect] of [
      ["node.kubernetes.io/not-ready", "NoExecute"],
      ["node.kubernetes.io/unreachable", "NoExecute"],
      ["node.kubernetes.io/unschedulable", "NoSchedule"],
      ["node.kubernetes.io/disk-pressure", "NoSchedule"],
      ["node.kubernetes.io/memory-pressure", "NoSchedule"],
      ["node.kubernetes.io/pid-pressure", "NoSchedule"],
    ] as const) {
      assert.equal(nodeShouldRunDaemonPod(node("a", { taints: [{ key, effect }] }), ds()).shouldRun, true, key);
    }
    const net = node("a", { taints: [{ key: "node.kubernetes.io/network-unavailable", effect: "NoSchedule" }] });
    assert.equal(nodeShouldRunDaemonPod(net, ds()).shouldRun, false);
    assert.equal(nodeShouldRunDaemonPod(net, ds({}, { hostNetwork: true })).shouldRun, true);
    assert.equal(daemonPodTolerations(false).length, 6);
    assert.equal(daemonPodTolerations(true).length, 7);
  });

  test("tolerations are added once, replacing a user's of the same key, operator and effect", () => {
    const spec = withDaemonTolerations({
      containers: [],
      tolerations: [
        { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 5 },
      ],
    });
    const notReady = spec.tolerations?.filter((t) => t.key === "node.kubernetes.io/not-ready") ?? [];
    assert.deepEqual(notReady, [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }]);
    assert.equal(withDaemonTolerations(spec).tolerations?.length, spec.tolerations?.length);
  });
});

describe("daemon pod placement", () => {
  test("affinity pinned on metadata.name, kept expressions; target node read back", () => {
    const a = replaceNodeNameAffinity(undefined, "n1");
    assert.deepEqual(a.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
      { matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] },
    ]);
    const b = replaceNodeNameAffinity(
      {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }] }],
          },
        },
      },
      "n2",
    );
    assert.deepEqual(b.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
      {
        matchExpressions: [{ key: "zone", operator: "In", values: ["z1"] }],
        matchFields: [{ key: "metadata.name", operator: "In", values: ["n2"] }],
      },
    ]);
    const pod: Pod = { metadata: { name: "p" }, spec: { containers: [], affinity: b } };
    assert.equal(targetNodeName(pod), "n2");
    assert.equal(targetNodeName({ metadata: {}, spec: { containers: [], nodeName: "n3", affinity: b } }), "n3");
  });

  test("updated by hash or by template generation", () => {
    const p = (labels: Record<string, string>): Pod => ({ metadata: { labels }, spec: { containers: [] } });
    assert.equal(isPodUpdated(p({ "controller-revision-hash": "h1" }), "h1", 2), true);
    assert.equal(isPodUpdated(p({ "pod-template-generation": "2" }), "h1", 2), true);
    assert.equal(isPodUpdated(p({ "controller-revision-hash": "h0", "pod-template-generation": "1" }), "h1", 2), false);
  });

  test("budgets: percentages round up; both zero means one unavailable", () => {
    const ru = (maxUnavailable: number | string, maxSurge: number | string) =>
      ds({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable, maxSurge } } });
    assert.deepEqual(rollingBudgets(ru("30%", 0), 5), { maxUnavailable: 2, maxSurge: 0 });
    assert.deepEqual(rollingBudgets(ru(0, "10%"), 5), { maxUnavailable: 0, maxSurge: 1 });
    assert.deepEqual(rollingBudgets(ru(0, 0), 5), { maxUnavailable: 1, maxSurge: 0 });
  });
});
