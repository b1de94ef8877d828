// The PV binder and the local-path provisioner in a real kubeling-controller-manager (under its
// own identity, so under the bootstrap RBAC roles) against a real API server and etcd. No
// kubelet runs: the binder's matching rules, pre-binding, phases, reclaim policies and events are
// checked on static volumes; the provisioner's part stops at the helper pod it asks a node for
// (the e2e test runs those on real Docker). Objects are watched, never polled; events are looked
// up until they appear.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import { EVENTS, NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES } from "#pkg/api/resources.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "#pkg/api/types/storage.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { node } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
let srv: TestApiServer;
let cm: TestControllerManager;
let kc: Kubectl;

interface PVOpts {
  modes?: string[];
  cls?: string;
  labels?: Record<string, string>;
  policy?: string;
  claimRef?: { namespace: string; name: string };
}

function pv(name: string, size: string, o: PVOpts = {}): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      capacity: { storage: size },
      accessModes: o.modes ?? ["ReadWriteOnce"],
      storageClassName: o.cls ?? "",
      persistentVolumeReclaimPolicy: o.policy ?? "Retain",
      ...(o.claimRef ? { claimRef: o.claimRef } : {}),
      hostPath: { path: `/tmp/kubeling-pv-binder/${name}` },
    },
  };
}

function pvc(
  name: string,
  size: string,
  o: { modes?: string[]; cls?: string | null; selector?: Record<string, string>; volumeName?: string } = {},
): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name },
    spec: {
      accessModes: o.modes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      ...(o.cls === null ? {} : { storageClassName: o.cls ?? "" }),
      ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
    },
  };
}

async function volumesAvailable(...names: string[]): Promise<void> {
  await watchUntil(
    srv.client,
    PERSISTENTVOLUMES,
    undefined,
    (vs) => names.every((n) => vs.find((v) => v.metadata.name === n)?.status?.phase === "Available"),
    { message: `${names.join(", ")} Available` },
  );
}

async function claimPhase(name: string, phase: string): Promise<PersistentVolumeClaim> {
  const [c] = await watchUntil(srv.client, PERSISTENTVOLUMECLAIMS, NS, ([x]) => x?.status?.phase === phase, {
    name,
    message: `claim ${name} ${phase}`,
  });
  return c as PersistentVolumeClaim;
}

async function volumePhase(name: string, phase: string): Promise<PersistentVolume> {
  const [v] = await watchUntil(srv.client, PERSISTENTVOLUMES, undefined, ([x]) => x?.status?.phase === phase, {
    name,
    message: `volume ${name} ${phase}`,
  });
  return v as PersistentVolume;
}

/** The first event of that reason about the object, once there is one. */
async function eventOf(name: string, reason: string, namespace = NS): Promise<Event> {
  return waitFor(
    async () =>
      (
        await srv.client.list<Event>(EVENTS, namespace, {
          fieldSelector: `involvedObject.name=${name},reason=${reason}`,
        })
      ).items[0],
    { message: `event ${reason} about ${name}` },
  );
}

before(async () => {
  srv = await startApiServer();
  // A node that publishes its kubelet root dir, for the provisioner's helper pods.
  await srv.client.create(NODES, undefined, {
    ...node("node-1"),
    metadata: {
      name: "node-1",
      labels: { "kubernetes.io/hostname": "node-1" },
      annotations: { "kubeling.io/kubelet-root-dir": "/var/lib/kubeling-test/node-1" },
    },
  });
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: [
      "--leader-elect=false",
      "--controllers=persistentvolume-binder,local-path-provisioner,serviceaccount,pvc-protection,pv-protection",
      "--local-path-helper-image=kubeling.local/busybox:latest",
    ],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await cm?.stop();
  await srv?.stop();
});

describe("the PV binder", () => {
  test("matching: class, smallest size that fits, access modes, selector; both sides annotated", async () => {
    await Promise.all(
      [
        pv("m-small", "1Gi"),
        pv("m-big", "5Gi"),
        pv("m-fast", "1Gi", { cls: "fast" }),
        pv("m-gold", "3Gi", { labels: { tier: "gold" } }),
        pv("m-rwx", "2Gi", { modes: ["ReadWriteMany", "ReadWriteOnce"] }),
      ].map((v) => srv.client.create(PERSISTENTVOLUMES, undefined, v)),
    );
    await volumesAvailable("m-small", "m-big", "m-fast", "m-gold", "m-rwx");
    for (const c of [
      pvc("m-a", "500Mi"),
      pvc("m-fast", "1Gi", { cls: "fast" }),
      pvc("m-gold", "1Gi", { selector: { tier: "gold" } }),
      pvc("m-shared", "1Gi", { modes: ["ReadWriteMany"] }),
      pvc("m-huge", "50Gi"),
    ])
      await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, c);
    const want: Record<string, string> = {
      "m-a": "m-small",
      "m-fast": "m-fast",
      "m-gold": "m-gold",
      "m-shared": "m-rwx",
    };
    for (const [claim, volume] of Object.entries(want)) {
      const c = await claimPhase(claim, "Bound");
      assert.equal(c.spec?.volumeName, volume, `claim ${claim}`);
      assert.equal(c.metadata.annotations?.["pv.kubernetes.io/bind-completed"], "yes");
      assert.equal(c.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
      const v = await volumePhase(volume, "Bound");
      assert.equal(v.spec?.claimRef?.uid, c.metadata.uid);
      assert.equal(v.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
      assert.deepEqual(c.status?.capacity, v.spec?.capacity);
      assert.deepEqual(c.status?.accessModes, v.spec?.accessModes);
    }
    // Nothing fits 50Gi and no class is set.
    const ev = await eventOf("m-huge", "FailedBinding");
    assert.equal(ev.message, "no persistent volumes available for this claim and no storage class is set");
    assert.equal(ev.source?.component, "persistentvolume-controller");
    assert.equal((await srv.client.get(PERSISTENTVOLUMECLAIMS, NS, "m-huge")).status?.phase, "Pending");
    assert.equal((await srv.client.get(PERSISTENTVOLUMES, undefined, "m-big")).status?.phase, "Available");
    // The real kubectl shows the binding.
    const out = await kc.ok(["get", "pvc", "m-a", "--no-headers"]);
    assert.match(out, /^m-a\s+Bound\s+m-small\s+1Gi\s+RWO\s+/);
  });

  test("a volume that appears later is bound to the waiting claim", async () => {
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("late", "2Gi", { cls: "late" }));
    await eventOf("late", "ProvisioningFailed");
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("late-pv", "2Gi", { cls: "late" }));
    const c = await claimPhase("late", "Bound");
    assert.equal(c.spec?.volumeName, "late-pv");
  });

  test("claimRef pre-binding: the reserved volume goes to its claim only", async () => {
    await srv.client.create(
      PERSISTENTVOLUMES,
      undefined,
      pv("reserved-pv", "10Gi", { claimRef: { namespace: NS, name: "reserved" } }),
    );
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("free-pv", "10Gi"));
    await volumesAvailable("reserved-pv", "free-pv");
    // Another claim that would fit takes the free one, never the reserved one.
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("intruder", "9Gi"));
    assert.equal((await claimPhase("intruder", "Bound")).spec?.volumeName, "free-pv");
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("reserved", "1Gi"));
    const c = await claimPhase("reserved", "Bound");
    assert.equal(c.spec?.volumeName, "reserved-pv");
    const v = await volumePhase("reserved-pv", "Bound");
    assert.equal(v.spec?.claimRef?.uid, c.metadata.uid);
    // The user chose the claim: the volume is not bound-by-controller (the claim is).
    assert.equal(v.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], undefined);
    assert.equal(c.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
  });

  test("volumeName pre-binding: bound when it fits, VolumeMismatch and Pending when not", async () => {
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("named-pv", "1Gi"));
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("named-tiny", "100Mi"));
    await volumesAvailable("named-pv", "named-tiny");
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("named", "1Gi", { volumeName: "named-pv" }));
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("named-big", "1Gi", { volumeName: "named-tiny" }));
    const c = await claimPhase("named", "Bound");
    assert.equal(c.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], undefined);
    assert.equal(
      (await volumePhase("named-pv", "Bound")).metadata.annotations?.["pv.kubernetes.io/bound-by-controller"],
      "yes",
    );
    const ev = await eventOf("named-big", "VolumeMismatch");
    assert.equal(ev.message, 'Cannot bind to requested volume "named-tiny": requested PV is too small');
    assert.equal((await srv.client.get(PERSISTENTVOLUMECLAIMS, NS, "named-big")).status?.phase, "Pending");
  });

  test("reclaim: Retain leaves the volume Released; Delete without a provisioner fails; a lost volume loses the claim", async () => {
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("keep-pv", "1Gi", { cls: "reclaim" }));
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("drop-pv", "2Gi", { cls: "reclaim", policy: "Delete" }));
    await srv.client.create(PERSISTENTVOLUMES, undefined, pv("gone-pv", "3Gi", { cls: "reclaim" }));
    await volumesAvailable("keep-pv", "drop-pv", "gone-pv");
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("keep", "1Gi", { cls: "reclaim" }));
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("drop", "2Gi", { cls: "reclaim" }));
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("gone", "3Gi", { cls: "reclaim" }));
    for (const n of ["keep", "drop", "gone"]) assert.equal((await claimPhase(n, "Bound")).spec?.volumeName, `${n}-pv`);

    await srv.client.delete(PERSISTENTVOLUMECLAIMS, NS, "keep");
    const kept = await volumePhase("keep-pv", "Released");
    assert.equal(kept.spec?.claimRef?.name, "keep");
    await srv.client.delete(PERSISTENTVOLUMECLAIMS, NS, "drop");
    await volumePhase("drop-pv", "Failed");
    const failed = await eventOf("drop-pv", "VolumeFailedDelete");
    assert.equal(
      failed.message,
      'error getting deleter volume plugin for volume "drop-pv": no deletable volume plugin matched',
    );
    // A Released volume is not bound again.
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("after", "1Gi", { cls: "reclaim" }));
    await eventOf("after", "ProvisioningFailed");
    assert.equal((await srv.client.get(PERSISTENTVOLUMES, undefined, "keep-pv")).status?.phase, "Released");

    // A Bound volume is protected (kubernetes.io/pv-protection): only taking its finalizer away
    // lets it go from under its claim.
    await srv.client.delete(PERSISTENTVOLUMES, undefined, "gone-pv");
    assert.ok((await srv.client.get(PERSISTENTVOLUMES, undefined, "gone-pv")).metadata.deletionTimestamp);
    await srv.client.patch(PERSISTENTVOLUMES, undefined, "gone-pv", { metadata: { finalizers: null } }, "merge");
    await claimPhase("gone", "Lost");
    const lost = await eventOf("gone", "ClaimLost");
    assert.equal(lost.message, "Bound claim has lost its PersistentVolume. Data on the volume is lost!");
  });

  test("a class that does not exist: ProvisioningFailed, and the claim stays Pending", async () => {
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("nope", "1Gi", { cls: "does-not-exist" }));
    const ev = await eventOf("nope", "ProvisioningFailed");
    assert.equal(ev.type, "Warning");
    assert.equal(ev.message, 'storageclass.storage.k8s.io "does-not-exist" not found');
    assert.equal((await srv.client.get(PERSISTENTVOLUMECLAIMS, NS, "nope")).status?.phase, "Pending");
  });
});

describe("the local-path provisioner", () => {
  test("the default class standard exists from the start", async () => {
    const [sc] = await watchUntil(srv.client, STORAGECLASSES, undefined, ([c]) => c !== undefined, {
      name: "standard",
    });
    const cls = sc as StorageClass;
    assert.equal(cls.provisioner, "kubeling.io/local-path");
    assert.equal(cls.volumeBindingMode, "WaitForFirstConsumer");
    assert.equal(cls.reclaimPolicy, "Delete");
    assert.equal(cls.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"], "true");
    const out = await kc.ok(["get", "sc", "--no-headers"]);
    assert.match(out, /^standard \(default\)\s+kubeling\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false/m);
  });

  test("a claim without a class takes the default, waits for a consumer, then a helper pod is asked of its node", async () => {
    await watchUntil(srv.client, STORAGECLASSES, undefined, ([c]) => c !== undefined, { name: "standard" });
    await srv.client.create(PERSISTENTVOLUMECLAIMS, NS, pvc("wffc", "1Gi", { cls: null }));
    const ev = await eventOf("wffc", "WaitForFirstConsumer");
    assert.equal(ev.message, "waiting for first consumer to be created before binding");
    const claim = await srv.client.get(PERSISTENTVOLUMECLAIMS, NS, "wffc");
    assert.equal(claim.spec?.storageClassName, "standard");
    assert.equal(claim.status?.phase, "Pending");
    assert.equal(claim.metadata.annotations?.["volume.kubernetes.io/storage-provisioner"], undefined);

    // What the scheduler does for its first pod.
    await srv.client.patch(
      PERSISTENTVOLUMECLAIMS,
      NS,
      "wffc",
      { metadata: { annotations: { "volume.kubernetes.io/selected-node": "node-1" } } },
      "merge",
    );
    const helperName = `helper-pod-create-pvc-${claim.metadata.uid}`;
    const [helper] = await watchUntil(srv.client, PODS, "kube-system", ([p]) => p !== undefined, {
      name: helperName,
      message: "helper pod",
    });
    const p = helper as Pod;
    assert.equal(p.spec?.nodeName, "node-1");
    assert.deepEqual(p.spec?.volumes?.[0]?.hostPath, {
      path: "/var/lib/kubeling-test/node-1/local-path",
      type: "DirectoryOrCreate",
    });
    assert.equal(p.spec?.containers[0]?.image, "kubeling.local/busybox:latest");
    const annotated = await srv.client.get(PERSISTENTVOLUMECLAIMS, NS, "wffc");
    assert.equal(
      annotated.metadata.annotations?.["volume.kubernetes.io/storage-provisioner"],
      "kubeling.io/local-path",
    );
    assert.match(
      (await eventOf("wffc", "ExternalProvisioning")).message ?? "",
      /external provisioner 'kubeling.io\/local-path'/,
    );
    assert.equal(
      (await eventOf("wffc", "Provisioning")).message,
      'External provisioner is provisioning volume for claim "default/wffc"',
    );

    // The claim goes before its volume was made: the helper pod is deleted too (Terminating
    // here, where no kubelet runs to confirm it).
    await srv.client.delete(PERSISTENTVOLUMECLAIMS, NS, "wffc");
    await watchUntil(srv.client, PODS, "kube-system", (ps) => ps.every((x) => x.metadata.deletionTimestamp), {
      name: helperName,
      message: "helper deleted",
    });
    await assert.rejects(srv.client.get(PERSISTENTVOLUMES, undefined, `pvc-${claim.metadata.uid}`), (e) =>
      isNotFound(e),
    );
  });
});
