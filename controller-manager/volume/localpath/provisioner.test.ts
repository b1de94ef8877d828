import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS, STORAGECLASSES } from "#pkg/api/resources.js";
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from "#pkg/api/types/index.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/controller-context.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../../test/harness/wait.js";
import { isProvisionedDir, volumeDir } from "./helper-pod.js";
import { LocalPathProvisioner, PROVISIONER } from "./provisioner.js";

afterEach(() => abortFakeContexts());

const NODE: Node = {
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name: "node-1",
    labels: { "kubernetes.io/hostname": "node-1" },
    annotations: { "kubeling.io/kubelet-root-dir": "/var/lib/k/node-1" },
  },
};

function claim(name: string, cls: string, node?: string): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: "default",
      uid: `u-${name}`,
      annotations: {
        "volume.kubernetes.io/storage-provisioner": PROVISIONER,
        ...(node ? { "volume.kubernetes.io/selected-node": node } : {}),
      },
    },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: cls },
    status: { phase: "Pending" },
  };
}

async function start(client: FakeClient) {
  const ctx = fakeControllerContext({ client });
  const c = new LocalPathProvisioner(ctx, { helperImage: "busybox:test" });
  const signal = await ctx.start();
  const running = c.run(signal, 2);
  return {
    events: ctx.events,
    stop: async () => {
      abortFakeContexts();
      await running;
    },
  };
}

const helper = (client: FakeClient, name: string) => client.object<Pod>(PODS, "kube-system", name);
async function finish(client: FakeClient, name: string, phase = "Succeeded") {
  const p = helper(client, name) as Pod;
  await client.update(PODS, "kube-system", { ...p, status: { phase } }, { subresource: "status" });
}

test("the default class is made at start, and a user's class of that name is left as it is", async (t) => {
  const client = new FakeClient();
  const c = await start(client);
  t.after(c.stop);
  await waitFor(() => client.object<StorageClass>(STORAGECLASSES, undefined, "standard") !== undefined);
  const sc = client.object<StorageClass>(STORAGECLASSES, undefined, "standard") as StorageClass;
  assert.equal(sc.provisioner, PROVISIONER);
  assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
  assert.equal(sc.reclaimPolicy, "Delete");
  assert.equal(sc.metadata.annotations?.["storageclass.kubernetes.io/is-default-class"], "true");
  await c.stop();

  const mine = new FakeClient();
  mine.seed(STORAGECLASSES, { ...sc, reclaimPolicy: "Retain", metadata: { name: "standard" } });
  // Workers start only once the class is ensured: a claim's helper pod shows that step is past.
  mine.seed(NODES, NODE);
  mine.seed(PERSISTENTVOLUMECLAIMS, claim("data", "standard", "node-1"));
  const again = await start(mine);
  t.after(again.stop);
  await waitFor(() => helper(mine, "helper-pod-create-pvc-u-data") !== undefined);
  assert.equal(mine.actions.filter((a) => a.verb === "create" && a.resource.startsWith("storageclasses")).length, 0);
});

test("a claim on a selected node: a helper pod makes the directory, then the PV; Released+Delete removes both", async (t) => {
  const client = new FakeClient();
  client.seed(NODES, NODE);
  client.seed(PERSISTENTVOLUMECLAIMS, claim("data", "standard", "node-1"));
  const c = await start(client);
  t.after(c.stop);
  await waitFor(() => helper(client, "helper-pod-create-pvc-u-data") !== undefined);
  const pod = helper(client, "helper-pod-create-pvc-u-data") as Pod;
  const dir = volumeDir("/var/lib/k/node-1", "pvc-u-data", "default", "data");
  assert.equal(dir, "/var/lib/k/node-1/local-path/pvc-u-data_default_data");
  assert.equal(pod.spec?.nodeName, "node-1");
  assert.deepEqual(pod.spec?.volumes?.[0]?.hostPath, {
    path: "/var/lib/k/node-1/local-path",
    type: "DirectoryOrCreate",
  });
  assert.equal(pod.spec?.containers[0]?.image, "busybox:test");
  assert.deepEqual(pod.spec?.containers[0]?.env?.[0], { name: "VOL_DIR", value: "/data/pvc-u-data_default_data" });
  assert.match(pod.spec?.containers[0]?.command?.[2] ?? "", /mkdir -m 0777 -p "\$VOL_DIR"/);
  assert.equal(client.object(PERSISTENTVOLUMES, undefined, "pvc-u-data"), undefined);
  assert.ok(c.events.reasons("default/data").includes("Provisioning"));

  await finish(client, "helper-pod-create-pvc-u-data");
  await waitFor(() => client.object(PERSISTENTVOLUMES, undefined, "pvc-u-data") !== undefined);
  const pv = client.object<PersistentVolume>(PERSISTENTVOLUMES, undefined, "pvc-u-data") as PersistentVolume;
  assert.deepEqual(pv.spec?.hostPath, { path: dir, type: "DirectoryOrCreate" });
  assert.deepEqual(pv.spec?.capacity, { storage: "1Gi" });
  assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Delete");
  assert.equal(pv.spec?.storageClassName, "standard");
  assert.equal(pv.spec?.claimRef?.uid, "u-data");
  assert.equal(pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"], PROVISIONER);
  assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0], {
    key: "kubernetes.io/hostname",
    operator: "In",
    values: ["node-1"],
  });
  await waitFor(() => helper(client, "helper-pod-create-pvc-u-data") === undefined);
  assert.equal(
    c.events.events.find((e) => e.reason === "ProvisioningSucceeded")?.message,
    "Successfully provisioned volume pvc-u-data",
  );

  // The binder released it (its claim is gone): the directory goes, then the PV.
  await client.update(
    PERSISTENTVOLUMES,
    undefined,
    { ...pv, status: { phase: "Released" } },
    { subresource: "status" },
  );
  await waitFor(() => helper(client, "helper-pod-delete-pvc-u-data") !== undefined);
  const del = helper(client, "helper-pod-delete-pvc-u-data") as Pod;
  assert.match(del.spec?.containers[0]?.command?.[2] ?? "", /rm -rf "\$VOL_DIR"/);
  assert.equal(del.spec?.nodeName, "node-1");
  assert.ok(client.object(PERSISTENTVOLUMES, undefined, "pvc-u-data"));
  await finish(client, "helper-pod-delete-pvc-u-data");
  await waitFor(() => client.object(PERSISTENTVOLUMES, undefined, "pvc-u-data") === undefined);
  await waitFor(() => helper(client, "helper-pod-delete-pvc-u-data") === undefined);
});

test("a failed helper is reported and retried; no node chosen or no root dir: waiting or ProvisioningFailed", async (t) => {
  const client = new FakeClient();
  client.seed(NODES, NODE, { ...NODE, metadata: { name: "bare", labels: { "kubernetes.io/hostname": "bare" } } });
  client.seed(STORAGECLASSES, {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "now" },
    provisioner: PROVISIONER,
    volumeBindingMode: "Immediate",
  } as StorageClass);
  client.seed(
    PERSISTENTVOLUMECLAIMS,
    claim("flaky", "standard", "node-1"),
    claim("waiting", "standard"),
    claim("immediate", "now"),
    claim("bare", "standard", "bare"),
  );
  const c = await start(client);
  t.after(c.stop);
  const failed = (o: string) => c.events.events.filter((e) => e.object === o && e.reason === "ProvisioningFailed");
  await waitFor(() => helper(client, "helper-pod-create-pvc-u-flaky") !== undefined);
  await finish(client, "helper-pod-create-pvc-u-flaky", "Failed");
  await waitFor(() => failed("default/flaky").length > 0);
  assert.match(failed("default/flaky")[0]?.message ?? "", /helper pod helper-pod-create-pvc-u-flaky failed/);
  // Retried with backoff: a new helper pod.
  await waitFor(() => helper(client, "helper-pod-create-pvc-u-flaky")?.status?.phase === undefined);
  await waitFor(() => failed("default/immediate").length > 0);
  assert.equal(
    failed("default/immediate")[0]?.message,
    'failed to provision volume with StorageClass "now": configuration error, no node was specified',
  );
  await waitFor(() => failed("default/bare").length > 0);
  assert.match(failed("default/bare")[0]?.message ?? "", /does not publish its kubelet root directory/);
  assert.equal(failed("default/waiting").length, 0);
  assert.equal(helper(client, "helper-pod-create-pvc-u-waiting"), undefined);
});

test("only directories the provisioner names are removed", () => {
  assert.equal(isProvisionedDir("/r/local-path/pvc-1a2b_default_data"), true);
  assert.equal(isProvisionedDir("/r/local-path/../etc"), false);
  assert.equal(isProvisionedDir("/r/other/pvc-1a2b_default_data"), false);
  assert.equal(isProvisionedDir("/r/local-path/data"), false);
  assert.equal(isProvisionedDir("relative/local-path/pvc-1_a_b"), false);
});
