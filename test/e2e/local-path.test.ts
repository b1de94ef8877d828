// The local-path provisioner on real Docker: kubelets on the host, the real scheduler (its
// VolumeBinding sets volume.kubernetes.io/selected-node) and kubeling-controller-manager (the PV
// binder, the provisioner, the protection controllers, the ServiceAccount controller that gives
// kube-system its default account for the helper pods). A pod writes a file into a claim of the
// default class `standard` (Pending, unbound and unprovisioned until then, checked after the binder
// has reported WaitForFirstConsumer about it, before and after a change to it); the directory is
// <root-dir>/local-path/pvc-<uid>_<ns>_<claim> on the pod's node, made by a helper pod there; a
// new pod on the same claim goes to that node (the PV's node affinity) and reads the file;
// deleting the claim removes the directory and the PV (Delete). The directory lifecycle is also
// checked with the annotation set by hand, and with a Retain class the PV goes Released and the
// directory stays. Objects are watched; the directories are looked at on the host, where the
// kubelet's --root-dir is.

import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  EVENTS,
  NODES,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  PODS,
  type ResourceType,
  STORAGECLASSES,
} from "#pkg/api/resources.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "#pkg/api/types/storage.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { rootDirOf } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
let cluster: TestCluster;
let cm: TestControllerManager;

function claim(name: string, storageClassName?: string): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "64Mi" } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}

/** What the scheduler does once it picked a node for the claim's first pod. */
async function selectNode(name: string, node: string): Promise<void> {
  await cluster.client.patch(
    PERSISTENTVOLUMECLAIMS,
    NS,
    name,
    { metadata: { annotations: { "volume.kubernetes.io/selected-node": node } } },
    "merge",
  );
}

/** The binder's WaitForFirstConsumer event about the claim, once it has been reported `count` times. */
async function waitingForConsumer(name: string, count: number): Promise<Event> {
  return waitFor(
    async () =>
      (
        await cluster.client.list<Event>(EVENTS, NS, {
          fieldSelector: `involvedObject.name=${name},reason=WaitForFirstConsumer`,
        })
      ).items.find((e) => (e.count ?? 1) >= count),
    { timeoutMs: 30_000, message: `WaitForFirstConsumer about ${name} reported ${count} times` },
  );
}

/**
 * A WaitForFirstConsumer claim with no pod: the binder has demonstrably looked at it (its
 * event), and again after the claim changed (the event's count went up), and left it Pending, unbound,
 * with no node chosen, nothing asked of a provisioner and no volume made for it.
 */
async function stillWaitingForConsumer(name: string): Promise<void> {
  const first = await waitingForConsumer(name, 1);
  assert.equal(first.message, "waiting for first consumer to be created before binding");
  assert.equal(first.source?.component, "persistentvolume-controller");
  // A change to the claim makes the binder sync it again: one more report.
  await cluster.client.patch(PERSISTENTVOLUMECLAIMS, NS, name, { metadata: { labels: { poked: "yes" } } }, "merge");
  await waitingForConsumer(name, (first.count ?? 1) + 1);
  const c = await cluster.client.get(PERSISTENTVOLUMECLAIMS, NS, name);
  assert.equal(c.metadata.labels?.poked, "yes", "the binder saw the changed claim");
  assert.equal(c.status?.phase, "Pending");
  assert.equal(c.spec?.volumeName, undefined, "no volume bound");
  for (const a of [
    "volume.kubernetes.io/selected-node",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "pv.kubernetes.io/bind-completed",
  ])
    assert.equal(c.metadata.annotations?.[a], undefined, `${name} has no ${a}`);
  const pvs = (await cluster.client.list(PERSISTENTVOLUMES, undefined)).items;
  assert.deepEqual(
    pvs.filter((v) => v.spec?.claimRef?.uid === c.metadata.uid).map((v) => v.metadata.name),
    [],
    "no volume made for it",
  );
}

async function bound(name: string): Promise<{ claim: PersistentVolumeClaim; pv: PersistentVolume }> {
  const [c] = await watchUntil(cluster.client, PERSISTENTVOLUMECLAIMS, NS, ([x]) => x?.status?.phase === "Bound", {
    name,
    timeoutMs: 60_000,
    message: `claim ${name} Bound`,
  });
  const pvc = c as PersistentVolumeClaim;
  const pv = await cluster.client.get(PERSISTENTVOLUMES, undefined, pvc.spec?.volumeName ?? "");
  return { claim: pvc, pv };
}

const dirOf = (node: string, pvc: PersistentVolumeClaim) =>
  `${rootDirOf(cluster.clusterName, node)}/local-path/pvc-${pvc.metadata.uid}_${NS}_${pvc.metadata.name}`;

async function noHelperPods(): Promise<void> {
  await watchUntil(cluster.client, PODS, "kube-system", (ps) => ps.length === 0, {
    labelSelector: "kubeling.io/local-path-helper",
    timeoutMs: 30_000,
    message: "helper pods cleaned up",
  });
}

/** A busybox pod that runs `script` once with the claim mounted at /data. */
function podWith(name: string, claimName: string, script: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "c",
          image: BUSYBOX_IMAGE,
          imagePullPolicy: "IfNotPresent",
          command: ["sh", "-c", script],
          volumeMounts: [{ name: "data", mountPath: "/data" }],
        },
      ],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
    },
  };
}

async function finished(name: string): Promise<Pod> {
  const [p] = await watchUntil(
    cluster.client,
    PODS,
    NS,
    ([x]) => x?.status?.phase === "Succeeded" || x?.status?.phase === "Failed",
    { name, timeoutMs: 90_000, message: `pod ${name} finished` },
  );
  return p as Pod;
}

async function gone<T extends KubeObject>(r: ResourceType<T>, name: string): Promise<void> {
  await watchUntil(cluster.client, r, NS, (xs) => xs.length === 0, {
    name,
    timeoutMs: 60_000,
    message: `${name} gone`,
  });
}

before(async () => {
  cluster = await startCluster({ nodes: ["node-1", "node-2"] });
  cm = await startControllerManager({
    kubeconfigPath: await cluster.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: [
      "--leader-elect=false",
      "--controllers=persistentvolume-binder,local-path-provisioner,serviceaccount,pvc-protection,pv-protection",
    ],
  });
});

after(async () => {
  await cm?.stop();
  await cluster?.stop();
});

describe("the local-path provisioner on real Docker", () => {
  test("a pod writes into a provisioned claim; a new pod on the same node reads it; Delete removes the directory", async () => {
    await watchUntil(cluster.client, STORAGECLASSES, undefined, ([c]) => c !== undefined, { name: "standard" });
    await cluster.client.create(PERSISTENTVOLUMECLAIMS, NS, claim("web-data"));
    // WaitForFirstConsumer: Pending, no volume, until a pod uses it.
    await stillWaitingForConsumer("web-data");
    const waiting = await cluster.client.get(PERSISTENTVOLUMECLAIMS, NS, "web-data");
    assert.equal(waiting.spec?.storageClassName, "standard");

    await cluster.client.create(PODS, NS, podWith("writer", "web-data", "echo hello-from-writer > /data/greeting"));
    const writer = await finished("writer");
    assert.equal(writer.status?.phase, "Succeeded", JSON.stringify(writer.status));
    const node = writer.spec?.nodeName ?? "";
    const { claim: c, pv } = await bound("web-data");
    assert.equal(c.metadata.annotations?.["volume.kubernetes.io/selected-node"], node);
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [node]);
    const dir = dirOf(node, c);
    assert.equal(pv.spec?.hostPath?.path, dir);
    assert.ok(existsSync(`${dir}/greeting`), `the file is in ${dir} on ${node}`);
    // Where the provisioner learnt the node's root dir.
    const n = await cluster.client.get(NODES, undefined, node);
    assert.equal(n.metadata.annotations?.["kubeling.io/kubelet-root-dir"], rootDirOf(cluster.clusterName, node));

    await cluster.client.delete(PODS, NS, "writer");
    await gone(PODS, "writer");
    // The PV's node affinity takes the reader to the writer's node.
    await cluster.client.create(
      PODS,
      NS,
      podWith("reader", "web-data", 'test "$(cat /data/greeting)" = hello-from-writer'),
    );
    const reader = await finished("reader");
    assert.equal(reader.status?.phase, "Succeeded", "the reader found the writer's file");
    assert.equal(reader.spec?.nodeName, node);

    await cluster.client.delete(PODS, NS, "reader");
    await gone(PODS, "reader");
    await cluster.client.delete(PERSISTENTVOLUMECLAIMS, NS, "web-data");
    await gone(PERSISTENTVOLUMECLAIMS, "web-data");
    await watchUntil(cluster.client, PERSISTENTVOLUMES, undefined, (vs) => vs.length === 0, {
      name: pv.metadata.name ?? "",
      timeoutMs: 60_000,
      message: "the PV deleted",
    });
    assert.equal(existsSync(dir), false, `${dir} removed`);
    await noHelperPods();
  });

  test("Delete: the node makes the directory, the claim binds, deleting it removes directory and PV", async () => {
    await watchUntil(cluster.client, STORAGECLASSES, undefined, ([c]) => c !== undefined, { name: "standard" });
    await cluster.client.create(PERSISTENTVOLUMECLAIMS, NS, claim("data"));
    // WaitForFirstConsumer: nothing happens before a node is chosen.
    await stillWaitingForConsumer("data");
    await selectNode("data", "node-2");
    const { claim: c, pv } = await bound("data");
    const dir = dirOf("node-2", c);
    assert.equal(pv.spec?.hostPath?.path, dir);
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Delete");
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [
      "node-2",
    ]);
    assert.ok(existsSync(dir), `${dir} exists on node-2`);
    assert.equal(statSync(dir).mode & 0o777, 0o777);
    assert.equal(existsSync(dirOf("node-1", c)), false);
    await noHelperPods();

    await cluster.client.delete(PERSISTENTVOLUMECLAIMS, NS, "data");
    await watchUntil(cluster.client, PERSISTENTVOLUMES, undefined, (vs) => vs.length === 0, {
      name: pv.metadata.name ?? "",
      timeoutMs: 60_000,
      message: "the PV deleted",
    });
    assert.equal(existsSync(dir), false, `${dir} removed`);
    await noHelperPods();
  });

  test("Retain: deleting the claim leaves the PV Released and the directory in place", async () => {
    const keep: StorageClass = {
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "local-retain" },
      provisioner: "kubeling.io/local-path",
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
    };
    await cluster.client.create(STORAGECLASSES, undefined, keep);
    await cluster.client.create(PERSISTENTVOLUMECLAIMS, NS, claim("kept", "local-retain"));
    await selectNode("kept", "node-1");
    const { claim: c, pv } = await bound("kept");
    const dir = dirOf("node-1", c);
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Retain");
    assert.ok(existsSync(dir));
    await cluster.client.delete(PERSISTENTVOLUMECLAIMS, NS, "kept");
    const [released] = await watchUntil(
      cluster.client,
      PERSISTENTVOLUMES,
      undefined,
      ([v]) => v?.status?.phase === "Released",
      { name: pv.metadata.name ?? "", timeoutMs: 30_000, message: "PV Released" },
    );
    assert.equal(released?.spec?.claimRef?.name, "kept");
    // Nothing removes it: no delete helper is ever made, and the directory stays.
    await noHelperPods();
    await waitFor(
      async () =>
        (await cluster.client.get(PERSISTENTVOLUMES, undefined, pv.metadata.name ?? "")).status?.phase === "Released",
    );
    assert.ok(existsSync(dir), `${dir} kept`);
    await cluster.client.delete(PERSISTENTVOLUMES, undefined, pv.metadata.name ?? "");
  });
});
