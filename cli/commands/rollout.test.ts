import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DAEMONSETS, DEPLOYMENTS, REPLICASETS, STATEFULSETS } from "#pkg/api/resources.js";
import type { DaemonSet, Deployment, Pod, ReplicaSet, StatefulSet } from "#pkg/api/types/index.js";
import {
  daemonSetRolloutStatus,
  deploymentHistory,
  deploymentRolloutStatus,
  groupKind,
  pausePatch,
  restartPatch,
  resumePatch,
  rollbackPatch,
  rollbackTarget,
  statefulSetRolloutStatus,
} from "./rollout.js";

const deployment = (over: Partial<Deployment["spec"]> = {}, annotations?: Record<string, string>): Deployment =>
  ({
    metadata: { name: "web", namespace: "default", uid: "d-uid", ...(annotations ? { annotations } : {}) },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "app", image: "img:b" }] } },
      ...over,
    },
  }) as Deployment;

function rs(
  rev: string | undefined,
  image: string,
  o: { cause?: string; extra?: Record<string, string> } = {},
): ReplicaSet {
  const labels = { app: "web", "pod-template-hash": `h-${image}` };
  return {
    metadata: {
      name: `web-${image}`,
      annotations: {
        ...(rev !== undefined ? { "deployment.kubernetes.io/revision": rev } : {}),
        ...(o.cause ? { "kubernetes.io/change-cause": o.cause } : {}),
        ...o.extra,
      },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-uid", controller: true }],
    },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "app", image }] } },
    },
  } as ReplicaSet;
}

describe("rollout pause, resume, restart", () => {
  test("patches and kubectl's per-object errors", () => {
    assert.deepEqual(pausePatch(DEPLOYMENTS, deployment()), { patch: { spec: { paused: true } } });
    assert.deepEqual(pausePatch(DEPLOYMENTS, deployment({ paused: true })), { error: "is already paused" });
    assert.deepEqual(pausePatch(REPLICASETS, deployment()), { error: "pausing is not supported" });
    assert.deepEqual(resumePatch(DEPLOYMENTS, deployment({ paused: true })), { patch: { spec: { paused: null } } });
    assert.deepEqual(resumePatch(DEPLOYMENTS, deployment()), { error: "is not paused" });
    assert.deepEqual(resumePatch(DAEMONSETS, deployment()), { error: "resuming is not supported" });
    const now = new Date("2026-01-02T03:04:05.678Z");
    assert.deepEqual(restartPatch(DEPLOYMENTS, deployment(), now), {
      patch: {
        spec: {
          template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2026-01-02T03:04:05Z" } } },
        },
      },
    });
    assert.deepEqual(restartPatch(DEPLOYMENTS, deployment({ paused: true }), now), {
      error: "can't restart paused deployment (run rollout resume first)",
    });
    assert.ok("patch" in restartPatch(STATEFULSETS, deployment(), now));
    assert.deepEqual(restartPatch(REPLICASETS, deployment(), now), { error: "restarting is not supported" });
    assert.equal(groupKind(REPLICASETS), "ReplicaSet.apps");
  });
});

describe("rollout status", () => {
  const d = (generation: number, status: Deployment["status"], replicas = 3) =>
    ({ metadata: { name: "web", generation }, spec: { replicas }, status }) as unknown as Deployment;

  test("deployment messages in kubectl's order", () => {
    assert.equal(
      deploymentRolloutStatus(d(2, { observedGeneration: 1 })).message,
      "Waiting for deployment spec update to be observed...",
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 1, replicas: 3 })).message,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 4 })).message,
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    );
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }))
        .message,
      'Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...',
    );
    assert.deepEqual(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 })),
      { message: 'deployment "web" successfully rolled out', done: true },
    );
    assert.throws(
      () =>
        deploymentRolloutStatus(
          d(1, {
            observedGeneration: 1,
            conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
          }),
        ),
      /^CliError: error: deployment "web" exceeded its progress deadline$/,
    );
  });

  test("a pod that cannot pull its image or be scheduled is named in a warning", () => {
    const pulling = {
      status: {
        containerStatuses: [
          { state: { waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' } } },
        ],
      },
    } as unknown as Pod;
    assert.equal(
      deploymentRolloutStatus(d(1, { observedGeneration: 1, updatedReplicas: 1, replicas: 3 }), [pulling]).message,
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated... (Warning: ImagePullBackOff - Back-off pulling image "x")',
    );
    const pending = {
      status: {
        conditions: [
          { type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/2 nodes are available" },
        ],
      },
    } as unknown as Pod;
    assert.match(
      deploymentRolloutStatus(d(2, { observedGeneration: 1 }), [pending]).message,
      /\(Warning: 0\/2 nodes are available\)$/,
    );
  });

  test("--revision pins the running revision", () => {
    const dep = d(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 });
    dep.metadata.annotations = { "deployment.kubernetes.io/revision": "2" };
    assert.equal(deploymentRolloutStatus(dep, [], 2).done, true);
    assert.throws(
      () => deploymentRolloutStatus(dep, [], 3),
      /desired revision \(3\) is different from the running revision \(2\)/,
    );
  });

  test("daemon set and stateful set viewers", () => {
    const ds = (status: Partial<NonNullable<DaemonSet["status"]>>) =>
      ({ metadata: { name: "agent", generation: 1 }, spec: {}, status }) as unknown as DaemonSet;
    assert.equal(
      daemonSetRolloutStatus(ds({ observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 1 }))
        .message,
      'Waiting for daemon set "agent" rollout to finish: 1 out of 2 new pods have been updated...',
    );
    assert.deepEqual(
      daemonSetRolloutStatus(
        ds({ observedGeneration: 1, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 }),
      ),
      { message: 'daemon set "agent" successfully rolled out', done: true },
    );
    const sts = (status: Partial<NonNullable<StatefulSet["status"]>>) =>
      ({ metadata: { name: "db", generation: 1 }, spec: { replicas: 3 }, status }) as unknown as StatefulSet;
    assert.equal(
      statefulSetRolloutStatus(sts({ observedGeneration: 1, readyReplicas: 1 })).message,
      "Waiting for 2 pods to be ready...",
    );
    assert.deepEqual(
      statefulSetRolloutStatus(
        sts({
          observedGeneration: 1,
          readyReplicas: 3,
          currentReplicas: 3,
          currentRevision: "r1",
          updateRevision: "r1",
        }),
      ),
      { message: "statefulset rolling update complete 3 pods at revision r1...", done: true },
    );
  });
});

describe("rollout history and undo", () => {
  const rss = [
    rs("1", "img:a", { cause: "first" }),
    rs("3", "img:c"),
    rs("2", "img:b", { cause: "second" }),
    rs(undefined, "img:x"),
  ];

  test("history: revisions in order with their change-cause, ReplicaSets without a revision left out", () => {
    assert.equal(
      deploymentHistory(rss, 0),
      "REVISION  CHANGE-CAUSE\n1         first\n2         second\n3         <none>\n",
    );
    assert.equal(deploymentHistory([], 0), "No rollout history found.");
    const one = deploymentHistory(rss, 2);
    assert.match(
      one,
      /^Pod Template:\n {2}Labels:\s+app=web\n\s+pod-template-hash=h-img:b\n {2}Annotations:\s+kubernetes\.io\/change-cause: second\n/,
    );
    assert.match(one, /Image:\s+img:b/);
    assert.throws(() => deploymentHistory(rss, 9), /unable to find the specified revision/);
  });

  test("undo target: the given revision, else the second-highest", () => {
    assert.equal(rollbackTarget(deployment(), rss, 0).metadata.name, "web-img:b");
    assert.equal(rollbackTarget(deployment(), rss, 1).metadata.name, "web-img:a");
    assert.throws(() => rollbackTarget(deployment(), rss, 7), /unable to find specified revision 7 in history/);
    assert.throws(
      () => rollbackTarget(deployment(), [rs("1", "img:a")], 0),
      /no rollout history found for deployment "web"/,
    );
  });

  test("undo patch: the template without pod-template-hash, the ReplicaSet's annotations, the deployment's revision kept", () => {
    const d = deployment(
      {},
      { "deployment.kubernetes.io/revision": "3", team: "a", "kubernetes.io/change-cause": "third" },
    );
    const patch = rollbackPatch(d, rs("1", "img:a", { cause: "first", extra: { note: "x" } }));
    assert.deepEqual(patch, [
      {
        op: "replace",
        path: "/spec/template",
        value: {
          metadata: { creationTimestamp: null, labels: { app: "web" } },
          spec: { containers: [{ name: "app", image: "img:a", resources: {} }] },
        },
      },
      {
        op: "replace",
        path: "/metadata/annotations",
        value: { "deployment.kubernetes.io/revision": "3", "kubernetes.io/change-cause": "first", note: "x" },
      },
    ]);
    // The template already matches (key order aside): nothing to do.
    const same = deployment();
    same.spec!.template = {
      spec: { containers: [{ image: "img:b", name: "app" }] },
      metadata: { labels: { app: "web" } },
    };
    assert.equal(rollbackPatch(same, rs("2", "img:b")), undefined);
  });
});
