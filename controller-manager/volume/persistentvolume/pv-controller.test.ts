import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES } from "#pkg/api/resources.js";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "#pkg/api/types/index.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/controller-context.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../../test/harness/wait.js";
import { PersistentVolumeController } from "./pv-controller.js";

afterEach(() => abortFakeContexts());

function pv(name: string, size: string, extra: Partial<NonNullable<PersistentVolume["spec"]>> = {}): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, uid: `uid-${name}` },
    spec: {
      capacity: { storage: size },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: `/tmp/${name}` },
      ...extra,
    },
  };
}

function pvc(
  name: string,
  size: string,
  spec: Partial<NonNullable<PersistentVolumeClaim["spec"]>> = {},
): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, namespace: "default", uid: `uid-${name}` },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } }, ...spec },
    status: { phase: "Pending" },
  };
}

async function start(client: FakeClient) {
  const ctx = fakeControllerContext({ client });
  if (process.env.DEBUG_PV)
    (ctx as { log: unknown }).log = (await import("#pkg/runtime/log.js")).createLogger("t", "debug");
  const c = new PersistentVolumeController(ctx, { syncPeriodMs: 60_000 });
  const signal = await ctx.start();
  const running = c.run(signal, 1);
  return {
    events: ctx.events,
    stop: async () => {
      abortFakeContexts();
      await running;
    },
  };
}

const claimOf = (client: FakeClient, name: string) =>
  client.object<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", name);
const volumeOf = (client: FakeClient, name: string) =>
  client.object<PersistentVolume>(PERSISTENTVOLUMES, undefined, name);

test("a claim binds the smallest fitting volume both ways, with upstream's annotations and status", async (t) => {
  const client = new FakeClient();
  client.seed(PERSISTENTVOLUMES, pv("big", "10Gi"), pv("small", "2Gi"));
  const c = await start(client);
  t.after(c.stop);
  // Only Available volumes are matched (a new PV is Pending until the controller has seen it).
  await waitFor(() => ["big", "small"].every((n) => volumeOf(client, n)?.status?.phase === "Available"));
  await client.create(PERSISTENTVOLUMECLAIMS, "default", pvc("data", "1Gi", { storageClassName: "" }));
  await waitFor(() => claimOf(client, "data")?.status?.phase === "Bound");
  const claim = claimOf(client, "data") as PersistentVolumeClaim;
  assert.equal(claim.spec?.volumeName, "small");
  assert.equal(claim.metadata.annotations?.["pv.kubernetes.io/bind-completed"], "yes");
  assert.equal(claim.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
  assert.deepEqual(claim.status?.capacity, { storage: "2Gi" });
  assert.deepEqual(claim.status?.accessModes, ["ReadWriteOnce"]);
  await waitFor(() => volumeOf(client, "small")?.status?.phase === "Bound");
  const vol = volumeOf(client, "small") as PersistentVolume;
  assert.equal(vol.spec?.claimRef?.name, "data");
  assert.equal(vol.spec?.claimRef?.uid, claim.metadata.uid);
  assert.equal(vol.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
  await waitFor(() => volumeOf(client, "big")?.status?.phase === "Available");

  // The claim goes: a Retain volume is Released and keeps its claimRef.
  await client.delete(PERSISTENTVOLUMECLAIMS, "default", "data");
  await waitFor(() => volumeOf(client, "small")?.status?.phase === "Released");
  assert.equal(volumeOf(client, "small")?.spec?.claimRef?.name, "data");
});

test("no volume and no class: FailedBinding; an unknown class: ProvisioningFailed; a class: its provisioner", async (t) => {
  const client = new FakeClient();
  const cls: StorageClass = {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "fast" },
    provisioner: "example.com/fast",
  };
  client.seed(STORAGECLASSES, cls);
  client.seed(
    PERSISTENTVOLUMECLAIMS,
    pvc("none", "1Gi", { storageClassName: "" }),
    pvc("ghost", "1Gi", { storageClassName: "missing" }),
    pvc("fast", "1Gi", { storageClassName: "fast" }),
  );
  const c = await start(client);
  t.after(c.stop);
  const message = (object: string, reason: string) =>
    c.events.events.find((e) => e.object === object && e.reason === reason)?.message;
  await waitFor(() => message("default/none", "FailedBinding") !== undefined);
  assert.equal(
    message("default/none", "FailedBinding"),
    "no persistent volumes available for this claim and no storage class is set",
  );
  await waitFor(() => message("default/ghost", "ProvisioningFailed") !== undefined);
  assert.equal(message("default/ghost", "ProvisioningFailed"), 'storageclass.storage.k8s.io "missing" not found');
  await waitFor(
    () =>
      claimOf(client, "fast")?.metadata.annotations?.["volume.kubernetes.io/storage-provisioner"] ===
      "example.com/fast",
  );
  assert.equal(
    claimOf(client, "fast")?.metadata.annotations?.["volume.beta.kubernetes.io/storage-provisioner"],
    "example.com/fast",
  );
  await waitFor(() => message("default/fast", "ExternalProvisioning") !== undefined);
  assert.match(message("default/fast", "ExternalProvisioning") ?? "", /external provisioner 'example.com\/fast'/);

  // The provisioner's volume, pre-bound by claimRef, is bound.
  const claim = claimOf(client, "fast") as PersistentVolumeClaim;
  await client.create(
    PERSISTENTVOLUMES,
    undefined,
    pv("pvc-fast", "1Gi", {
      storageClassName: "fast",
      persistentVolumeReclaimPolicy: "Delete",
      claimRef: { kind: "PersistentVolumeClaim", namespace: "default", name: "fast", uid: claim.metadata.uid ?? "" },
    }),
  );
  await waitFor(() => claimOf(client, "fast")?.status?.phase === "Bound");
  assert.equal(claimOf(client, "fast")?.spec?.volumeName, "pvc-fast");
  // Pre-bound volume: the controller did not choose it.
  assert.equal(volumeOf(client, "pvc-fast")?.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], undefined);
});

test("WaitForFirstConsumer waits for the selected node; a Delete volume nobody provisioned fails", async (t) => {
  const client = new FakeClient();
  client.seed(STORAGECLASSES, {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "local" },
    provisioner: "example.com/local",
    volumeBindingMode: "WaitForFirstConsumer",
  } as StorageClass);
  client.seed(PERSISTENTVOLUMECLAIMS, pvc("late", "1Gi", { storageClassName: "local" }));
  client.seed(
    PERSISTENTVOLUMES,
    pv("static", "1Gi", {
      persistentVolumeReclaimPolicy: "Delete",
      claimRef: { namespace: "default", name: "gone", uid: "u-gone" },
    }),
  );
  const c = await start(client);
  t.after(c.stop);
  await waitFor(() => c.events.reasons("default/late").includes("WaitForFirstConsumer"));
  assert.equal(
    c.events.events.find((e) => e.reason === "WaitForFirstConsumer")?.message,
    "waiting for first consumer to be created before binding",
  );
  assert.equal(claimOf(client, "late")?.metadata.annotations?.["volume.kubernetes.io/storage-provisioner"], undefined);
  const claim = claimOf(client, "late") as PersistentVolumeClaim;
  claim.metadata.annotations = { "volume.kubernetes.io/selected-node": "node-1" };
  await client.update(PERSISTENTVOLUMECLAIMS, "default", claim);
  await waitFor(
    () =>
      claimOf(client, "late")?.metadata.annotations?.["volume.kubernetes.io/storage-provisioner"] ===
      "example.com/local",
  );

  await waitFor(() => volumeOf(client, "static")?.status?.phase === "Failed");
  const failed = c.events.events.find((e) => e.object === "static" && e.reason === "VolumeFailedDelete");
  assert.equal(
    failed?.message,
    'error getting deleter volume plugin for volume "static": no deletable volume plugin matched',
  );
});

test("volumeName pre-binding: bound when it fits, VolumeMismatch when it does not", async (t) => {
  const client = new FakeClient();
  client.seed(PERSISTENTVOLUMES, pv("wanted", "1Gi"), pv("tiny", "100Mi"));
  const c = await start(client);
  t.after(c.stop);
  await waitFor(() => ["wanted", "tiny"].every((n) => volumeOf(client, n)?.status?.phase === "Available"));
  await client.create(
    PERSISTENTVOLUMECLAIMS,
    "default",
    pvc("asks", "1Gi", { storageClassName: "", volumeName: "wanted" }),
  );
  await client.create(
    PERSISTENTVOLUMECLAIMS,
    "default",
    pvc("too-big", "1Gi", { storageClassName: "", volumeName: "tiny" }),
  );
  await waitFor(() => claimOf(client, "asks")?.status?.phase === "Bound");
  // The user chose the volume: the claim is not bound-by-controller, the volume is.
  assert.equal(claimOf(client, "asks")?.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], undefined);
  assert.equal(volumeOf(client, "wanted")?.metadata.annotations?.["pv.kubernetes.io/bound-by-controller"], "yes");
  await waitFor(() => c.events.reasons("default/too-big").includes("VolumeMismatch"));
  assert.equal(
    c.events.events.find((e) => e.reason === "VolumeMismatch")?.message,
    'Cannot bind to requested volume "tiny": requested PV is too small',
  );
  assert.equal(claimOf(client, "too-big")?.status?.phase, "Pending");
});
