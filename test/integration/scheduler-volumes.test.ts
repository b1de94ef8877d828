// The scheduler's VolumeBinding against the REAL API server (etcd-backed, separate process),
// running as system:kube-scheduler (so its bootstrap RBAC is what lets it read claims, PVs and
// classes and write claims and PVs). Nodes are API objects (no kubelets) and there is no PV
// binder: the test creates the PVs and, where a binder would, binds claims itself.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { EVENTS, NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES } from "#pkg/api/resources.js";
import {
  ANN_BIND_COMPLETED,
  ANN_SELECTED_NODE,
  type Event,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type StorageClass,
} from "#pkg/api/types/index.js";
import { ApiClient } from "#pkg/client/client.js";
import { SCHEDULER_USER } from "#pkg/pki/cluster.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { SchedulerApp } from "../../scheduler/app.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { waitFor } from "../harness/wait.js";

const NOT_HELPFUL = "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";

function node(name: string): Node {
  const amounts = { cpu: "4", memory: "8Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: {},
    status: { capacity: amounts, allocatable: amounts, conditions: [{ type: "Ready", status: "True" }] },
  };
}

const onNode = (name: string) => ({
  required: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [name] }] }],
  },
});

function pod(name: string, claim: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }],
    },
  };
}

function claim(name: string, storageClassName: string): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName },
  };
}

function volume(name: string, o: { node: string; storageClassName: string; claimRef?: PersistentVolumeClaim }) {
  const pv: PersistentVolume = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      storageClassName: o.storageClassName,
      hostPath: { path: `/tmp/${name}` },
      nodeAffinity: onNode(o.node),
      ...(o.claimRef
        ? {
            claimRef: {
              kind: "PersistentVolumeClaim",
              namespace: "default",
              name: o.claimRef.metadata.name ?? "",
              uid: o.claimRef.metadata.uid ?? "",
            },
          }
        : {}),
    },
  };
  return pv;
}

describe("scheduler: VolumeBinding (real API server, the scheduler's own identity)", () => {
  let server: TestApiServer;
  let client: ApiClient;
  let schedulerClient: ApiClient;
  const ac = new AbortController();
  let running: Promise<unknown> | undefined;

  before(async () => {
    server = await startApiServer();
    client = server.client;
    for (const n of ["node-1", "node-2"]) await client.create(NODES, undefined, node(n));
    schedulerClient = ApiClient.fromKubeconfig({ path: await server.kubeconfigFor({ name: SCHEDULER_USER }) });
    const app = new SchedulerApp({
      client: schedulerClient,
      leaderElect: false,
      log: silentLogger,
      volumeBindingArgs: { bindTimeoutMs: 20_000 },
    });
    running = app.run(ac.signal);
  });

  after(async () => {
    ac.abort();
    await running;
    await schedulerClient?.close();
    await server?.stop();
  });

  /** What the PV binder does: the PV's claimRef and phase, the claim's volumeName, bind-completed and phase. */
  async function bindClaim(pvcName: string, pvName: string): Promise<void> {
    const pvc = await client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", pvcName);
    const pv = await client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, pvName);
    pv.spec = {
      ...pv.spec,
      claimRef: { kind: "PersistentVolumeClaim", namespace: "default", name: pvcName, uid: pvc.metadata.uid ?? "" },
    };
    const pvUpdated = await client.update(PERSISTENTVOLUMES, undefined, pv);
    await client.update(
      PERSISTENTVOLUMES,
      undefined,
      { ...pvUpdated, status: { phase: "Bound" } },
      { subresource: "status" },
    );
    pvc.spec = { ...pvc.spec, volumeName: pvName };
    pvc.metadata.annotations = { ...pvc.metadata.annotations, [ANN_BIND_COMPLETED]: "yes" };
    const pvcUpdated = await client.update(PERSISTENTVOLUMECLAIMS, "default", pvc);
    await client.update(
      PERSISTENTVOLUMECLAIMS,
      "default",
      { ...pvcUpdated, status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } },
      { subresource: "status" },
    );
  }

  async function createAvailable(pv: PersistentVolume): Promise<void> {
    const created = await client.create(PERSISTENTVOLUMES, undefined, pv);
    await client.update(
      PERSISTENTVOLUMES,
      undefined,
      { ...created, status: { phase: "Available" } },
      { subresource: "status" },
    );
  }

  const boundTo = (name: string, timeoutMs = 15_000) =>
    waitFor(async () => (await client.get<Pod>(PODS, "default", name)).spec?.nodeName || undefined, {
      timeoutMs,
      message: `pod ${name} to be bound`,
    });

  const failedScheduling = (name: string, match: (m: string) => boolean) =>
    waitFor(
      async () => {
        const events = (await client.list<Event>(EVENTS, "default")).items;
        return events.find(
          (e) => e.involvedObject?.name === name && e.reason === "FailedScheduling" && match(e.message ?? ""),
        );
      },
      { timeoutMs: 15_000, message: `a FailedScheduling event for ${name}` },
    );

  test("a claim bound to a PV with node affinity steers its pods to that node", async () => {
    const pvc = await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("steer", "manual"));
    await client.create(
      PERSISTENTVOLUMES,
      undefined,
      volume("pv-steer", { node: "node-2", storageClassName: "manual", claimRef: pvc }),
    );
    await bindClaim("steer", "pv-steer");
    for (let i = 0; i < 3; i++) await client.create(PODS, "default", pod(`steer-${i}`, "steer"));
    for (let i = 0; i < 3; i++) assert.equal(await boundTo(`steer-${i}`), "node-2");
  });

  test("a missing claim keeps the pod Pending; creating the claim (bound) lets it schedule", async () => {
    await client.create(PODS, "default", pod("no-claim", "later"));
    const ev = await failedScheduling("no-claim", () => true);
    assert.equal(ev.message, `0/2 nodes are available: persistentvolumeclaim "later" not found. ${NOT_HELPFUL}`);
    assert.equal(ev.type, "Warning");
    const pvc = await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("later", "manual"));
    await client.create(
      PERSISTENTVOLUMES,
      undefined,
      volume("pv-later", { node: "node-1", storageClassName: "manual", claimRef: pvc }),
    );
    await bindClaim("later", "pv-later");
    // The claim's events requeue the pod at once (not after the 5-minute unschedulable flush).
    assert.equal(await boundTo("no-claim"), "node-1");
  });

  test("an unbound Immediate claim, and a claim of a class that does not exist, keep the pod Pending", async () => {
    const unbound = `0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${NOT_HELPFUL}`;
    await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("immediate", ""));
    await client.create(PODS, "default", pod("waits-immediate", "immediate"));
    assert.equal((await failedScheduling("waits-immediate", () => true)).message, unbound);
    await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("classless", "no-such-class"));
    await client.create(PODS, "default", pod("waits-class", "classless"));
    assert.equal((await failedScheduling("waits-class", () => true)).message, unbound);
    const p = await client.get<Pod>(PODS, "default", "waits-class");
    assert.equal(p.spec?.nodeName, undefined);
    const cond = p.status?.conditions?.find((c) => c.type === "PodScheduled");
    assert.deepEqual([cond?.status, cond?.reason, cond?.message], ["False", "Unschedulable", unbound]);
  });

  test("WaitForFirstConsumer with a provisioner: the scheduler sets the selected node (allowedTopologies) and binds the pod once the claim is bound", async () => {
    await client.create<StorageClass>(STORAGECLASSES, undefined, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "wffc" },
      provisioner: "example.com/test",
      volumeBindingMode: "WaitForFirstConsumer",
      allowedTopologies: [{ matchLabelExpressions: [{ key: "kubernetes.io/hostname", values: ["node-2"] }] }],
    });
    await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("late-bound", "wffc"));
    await client.create(PODS, "default", pod("first-consumer", "late-bound"));
    const selected = await waitFor(
      async () =>
        (await client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "late-bound")).metadata
          .annotations?.[ANN_SELECTED_NODE],
      { message: "the selected-node annotation" },
    );
    assert.equal(selected, "node-2");
    // The scheduler waits for the claim before binding the pod.
    assert.equal((await client.get<Pod>(PODS, "default", "first-consumer")).spec?.nodeName, undefined);
    // The provisioner's part: a PV on the selected node, bound to the claim.
    await client.create(
      PERSISTENTVOLUMES,
      undefined,
      volume("pvc-late-bound", { node: "node-2", storageClassName: "wffc" }),
    );
    await bindClaim("late-bound", "pvc-late-bound");
    assert.equal(await boundTo("first-consumer"), "node-2");
  });

  test("WaitForFirstConsumer with static PVs: the scheduler picks the node of an Available PV and pre-binds it", async () => {
    await client.create<StorageClass>(STORAGECLASSES, undefined, {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "local-static" },
      provisioner: "kubernetes.io/no-provisioner",
      volumeBindingMode: "WaitForFirstConsumer",
    });
    await createAvailable(volume("pv-static", { node: "node-1", storageClassName: "local-static" }));
    await client.create(PERSISTENTVOLUMECLAIMS, "default", claim("static", "local-static"));
    await client.create(PODS, "default", pod("static-consumer", "static"));
    const ref = await waitFor(
      async () => (await client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, "pv-static")).spec?.claimRef,
      { message: "the PV's claimRef" },
    );
    assert.equal(ref.name, "static");
    await bindClaim("static", "pv-static");
    assert.equal(await boundTo("static-consumer"), "node-1");
  });
});
