// The storage kinds (core/v1 PersistentVolume and PersistentVolumeClaim, storage.k8s.io/v1
// StorageClass) as the real kubectl sees them, against a real API server and etcd: discovery,
// create from YAML with upstream's defaults, upstream's table columns, validation refused with
// 422 and nothing stored.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound, StatusError } from "#pkg/api/errors.js";
import {
  EVENTS,
  PERSISTENTVOLUMECLAIMS,
  PERSISTENTVOLUMES,
  RESOURCEQUOTAS,
  STORAGECLASSES,
} from "#pkg/api/resources.js";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "#pkg/api/types/storage.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

let srv: TestApiServer;
let kc: Kubectl;

const rows = (out: string) =>
  out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));

const PV = `apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv-kinds
spec:
  capacity:
    storage: 2048Mi
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  hostPath:
    path: /tmp/pv-kinds
`;
const PVC = `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim-kinds
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources:
    requests:
      storage: 1Gi
`;
const SC = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: sc-kinds
provisioner: example.com/kinds
`;

before(async () => {
  srv = await startApiServer();
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
});

describe("storage kinds", () => {
  test("kubectl api-resources lists pv, pvc and sc", async () => {
    const all = rows(await kc.ok(["api-resources"]));
    assert.deepEqual(
      all.find((r) => r[0] === "persistentvolumes"),
      ["persistentvolumes", "pv", "v1", "false", "PersistentVolume"],
    );
    assert.deepEqual(
      all.find((r) => r[0] === "persistentvolumeclaims"),
      ["persistentvolumeclaims", "pvc", "v1", "true", "PersistentVolumeClaim"],
    );
    assert.deepEqual(
      all.find((r) => r[0] === "storageclasses"),
      ["storageclasses", "sc", "storage.k8s.io/v1", "false", "StorageClass"],
    );
  });

  test("create from YAML: upstream's defaults and columns", async () => {
    assert.match(await kc.ok(["apply", "-f", "-"], { input: PV }), /persistentvolume\/pv-kinds created/);
    assert.match(await kc.ok(["apply", "-f", "-"], { input: PVC }), /persistentvolumeclaim\/claim-kinds created/);
    assert.match(await kc.ok(["apply", "-f", "-"], { input: SC }), /storageclass\.storage\.k8s\.io\/sc-kinds created/);
    const pv = await srv.client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, "pv-kinds");
    assert.equal(pv.spec?.persistentVolumeReclaimPolicy, "Retain");
    assert.equal(pv.spec?.volumeMode, "Filesystem");
    assert.deepEqual(pv.spec?.capacity, { storage: "2Gi" });
    assert.equal(pv.status?.phase, "Pending");
    const pvc = await srv.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "claim-kinds");
    assert.equal(pvc.spec?.volumeMode, "Filesystem");
    assert.equal(pvc.status?.phase, "Pending");
    const sc = await srv.client.get<StorageClass>(STORAGECLASSES, undefined, "sc-kinds");
    assert.equal(sc.reclaimPolicy, "Delete");
    assert.equal(sc.volumeBindingMode, "Immediate");

    const pvc1 = rows(await kc.ok(["get", "pvc"]));
    assert.deepEqual(pvc1[0], [
      "NAME",
      "STATUS",
      "VOLUME",
      "CAPACITY",
      "ACCESS MODES",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "AGE",
    ]);
    assert.deepEqual(pvc1[1]?.slice(0, 4), ["claim-kinds", "Pending", "manual", "<unset>"]);
    const both = (await kc.ok(["get", "pv,sc"])).trim().split("\n\n");
    const pvRows = rows(both[0] ?? "");
    assert.deepEqual(pvRows[0], [
      "NAME",
      "CAPACITY",
      "ACCESS MODES",
      "RECLAIM POLICY",
      "STATUS",
      "CLAIM",
      "STORAGECLASS",
      "VOLUMEATTRIBUTESCLASS",
      "REASON",
      "AGE",
    ]);
    assert.deepEqual(pvRows[1]?.slice(0, 7), [
      "persistentvolume/pv-kinds",
      "2Gi",
      "RWO",
      "Retain",
      "Pending",
      "manual",
      "<unset>",
    ]);
    const scRows = rows(both[1] ?? "");
    assert.deepEqual(scRows[0], [
      "NAME",
      "PROVISIONER",
      "RECLAIMPOLICY",
      "VOLUMEBINDINGMODE",
      "ALLOWVOLUMEEXPANSION",
      "AGE",
    ]);
    assert.deepEqual(scRows[1]?.slice(0, 5), [
      "storageclass.storage.k8s.io/sc-kinds",
      "example.com/kinds",
      "Delete",
      "Immediate",
      "false",
    ]);
    const wide = rows(await kc.ok(["get", "pv", "pv-kinds", "-o", "wide"]));
    assert.equal(wide[0]?.at(-1), "VOLUMEMODE");
    assert.equal(wide[1]?.at(-1), "Filesystem");
  });

  test("invalid objects are refused with 422 and nothing is stored", async () => {
    const r = await kc.run(["apply", "-f", "-"], {
      input: PV.replace("pv-kinds", "pv-bad").replace("storage: 2048Mi", "storage: 0").replace("[ReadWriteOnce]", "[]"),
    });
    assert.notEqual(r.code, 0);
    assert.equal(
      r.stderr,
      'The PersistentVolume "pv-bad" is invalid: \n* spec.accessModes: Required value\n* spec.capacity[storage]: Invalid value: "0": must be greater than zero\n',
    );
    await assert.rejects(srv.client.get(PERSISTENTVOLUMES, undefined, "pv-bad"), isNotFound);
    const c = await kc.run(["create", "-f", "-"], {
      input: PVC.replace("claim-kinds", "claim-bad").replace("storage: 1Gi", "storage: 1Gb"),
    });
    assert.notEqual(c.code, 0);
    await assert.rejects(srv.client.get(PERSISTENTVOLUMECLAIMS, "default", "claim-bad"), isNotFound);
    const s = await kc.run(["create", "-f", "-"], {
      input: SC.replace("sc-kinds", "sc-bad").replace("provisioner: example.com/kinds", 'provisioner: ""'),
    });
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /The StorageClass "sc-bad" is invalid: provisioner: Required value/);
    await assert.rejects(srv.client.get(STORAGECLASSES, undefined, "sc-bad"), isNotFound);
    // The 422 Status with field causes.
    const raw = await srv.client
      .create(STORAGECLASSES, undefined, {
        apiVersion: "storage.k8s.io/v1",
        kind: "StorageClass",
        metadata: { name: "sc-bad" },
        provisioner: "x.io/y",
        reclaimPolicy: "Recycle",
      } as StorageClass)
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    assert.ok(raw instanceof StatusError);
    assert.equal(raw.code, 422);
    assert.equal(raw.reason, "Invalid");
    assert.deepEqual(
      raw.details?.causes?.map((x) => x.field),
      ["reclaimPolicy"],
    );
  });

  test("a class's parameters are immutable; a PV's source is too", async () => {
    const u = await kc.run(["patch", "sc", "sc-kinds", "--type=merge", "-p", '{"parameters":{"a":"b"}}']);
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /parameters: Forbidden: updates to parameters are forbidden\./);
    const p = await kc.run([
      "patch",
      "pv",
      "pv-kinds",
      "--type=merge",
      "-p",
      '{"spec":{"hostPath":{"path":"/tmp/other"}}}',
    ]);
    assert.notEqual(p.code, 0);
    assert.match(p.stderr, /spec\.persistentvolumesource is immutable after creation/);
  });

  test("admission: the protection finalizers, the default class, resizing by allowVolumeExpansion", async () => {
    const pv = await srv.client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, "pv-kinds");
    assert.deepEqual(pv.metadata.finalizers, ["kubernetes.io/pv-protection"]);
    const pvc = await srv.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "claim-kinds");
    assert.deepEqual(pvc.metadata.finalizers, ["kubernetes.io/pvc-protection"]);

    // The newest class annotated default is a claim's class when it names none ("" names none too).
    await kc.ok(["apply", "-f", "-"], {
      input: `${SC.replace("sc-kinds", "fast").replace("example.com/kinds", "example.com/fast")}allowVolumeExpansion: true
---
${SC.replace("sc-kinds", "standard").replace("example.com/kinds", "example.com/std").replace("metadata:\n", 'metadata:\n  annotations:\n    storageclass.kubernetes.io/is-default-class: "true"\n')}`,
    });
    assert.match(
      await kc.ok(["get", "sc", "standard"]),
      /\nstandard \(default\)\s+example\.com\/std\s+Delete\s+Immediate\s+false\s/,
    );
    const noClass = PVC.replace("claim-kinds", "claim-default").replace("  storageClassName: manual\n", "");
    await kc.ok(["create", "-f", "-"], { input: noClass });
    const got = await srv.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "claim-default");
    assert.equal(got.spec?.storageClassName, "standard");
    await kc.ok(["create", "-f", "-"], {
      input: PVC.replace("claim-kinds", "claim-none").replace("storageClassName: manual", 'storageClassName: ""'),
    });
    const none = await srv.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "claim-none");
    assert.equal(none.spec?.storageClassName, "");

    // Growing: refused while Pending (spec immutable), then by class once Bound, allowed by "fast".
    const grow = (name: string) =>
      kc.run(["patch", "pvc", name, "--type=merge", "-p", '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}']);
    const pending = await grow("claim-kinds");
    assert.notEqual(pending.code, 0);
    assert.match(
      pending.stderr,
      /spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims/,
    );
    const bind = (name: string) =>
      kc.ok(["patch", "pvc", name, "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Bound"}}']);
    await bind("claim-kinds");
    const byClass = await grow("claim-kinds");
    assert.notEqual(byClass.code, 0);
    assert.equal(
      byClass.stderr.trim(),
      'Error from server (Forbidden): persistentvolumeclaims "claim-kinds" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
    await kc.ok(["create", "-f", "-"], { input: PVC.replace("claim-kinds", "claim-fast").replace("manual", "fast") });
    await bind("claim-fast");
    assert.match(await kc.ok(["get", "pvc", "claim-fast", "-o", "jsonpath={.status.phase}"]), /^Bound$/);
    await kc.ok([
      "patch",
      "pvc",
      "claim-fast",
      "--type=merge",
      "-p",
      '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}',
    ]);
    const fast = await srv.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "default", "claim-fast");
    assert.equal(fast.spec?.resources?.requests?.storage, "3Gi");
    const shrink = await kc.run([
      "patch",
      "pvc",
      "claim-fast",
      "--type=merge",
      "-p",
      '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}',
    ]);
    assert.notEqual(shrink.code, 0);
    assert.match(
      shrink.stderr,
      /spec\.resources\.requests\.storage: Forbidden: field can not be less than previous value/,
    );

    // Deleting leaves them Terminating until the finalizer goes (no protection controller here).
    await kc.ok(["delete", "pvc", "claim-kinds", "claim-default", "claim-none", "claim-fast", "--wait=false"]);
    await kc.ok(["delete", "pv", "pv-kinds", "--wait=false"]);
    const table = rows(await kc.ok(["get", "pvc", "claim-kinds"]));
    assert.equal(table[1]?.[1], "Terminating");
    assert.equal(rows(await kc.ok(["get", "pv", "pv-kinds"]))[1]?.[4], "Terminating");
    for (const name of ["claim-kinds", "claim-default", "claim-none", "claim-fast"])
      await kc.ok(["patch", "pvc", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await kc.ok(["patch", "pv", "pv-kinds", "--type=merge", "-p", '{"metadata":{"finalizers":null}}']);
    await assert.rejects(srv.client.get(PERSISTENTVOLUMES, undefined, "pv-kinds"), isNotFound);
    await assert.rejects(srv.client.get(PERSISTENTVOLUMECLAIMS, "default", "claim-kinds"), isNotFound);
    await kc.ok(["delete", "sc", "sc-kinds", "fast", "standard"]);
  });
});

describe("quota on claims", () => {
  test("requests.storage and per-class claim counts are charged when claims are created", async () => {
    await kc.ok(["create", "namespace", "quota-claims"]);
    await kc.ok(["apply", "-n", "quota-claims", "-f", "-"], {
      input: `apiVersion: v1
kind: ResourceQuota
metadata: {name: storage}
spec:
  hard: {requests.storage: 3Gi, gold.storageclass.storage.k8s.io/persistentvolumeclaims: "1"}
`,
    });
    // No resource quota controller runs here: the status it would write, by hand.
    await kc.ok([
      "patch",
      "resourcequota",
      "storage",
      "-n",
      "quota-claims",
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({
        status: {
          hard: { "requests.storage": "3Gi", "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "1" },
          used: { "requests.storage": "0", "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "0" },
        },
      }),
    ]);
    const claim = (name: string, cls: string, size: string) =>
      PVC.replace("claim-kinds", name)
        .replace("storageClassName: manual", `storageClassName: ${cls}`)
        .replace("1Gi", size);
    await kc.ok(["create", "-n", "quota-claims", "-f", "-"], { input: claim("a", "gold", "2Gi") });
    const more = await kc.run(["create", "-n", "quota-claims", "-f", "-"], { input: claim("b", "gold", "1Gi") });
    assert.notEqual(more.code, 0);
    assert.match(
      more.stderr,
      /persistentvolumeclaims "b" is forbidden: exceeded quota: storage, requested: gold\.storageclass\.storage\.k8s\.io\/persistentvolumeclaims=1, used: gold\.storageclass\.storage\.k8s\.io\/persistentvolumeclaims=1, limited: gold\.storageclass\.storage\.k8s\.io\/persistentvolumeclaims=1/,
    );
    const big = await kc.run(["create", "-n", "quota-claims", "-f", "-"], { input: claim("c", "silver", "2Gi") });
    assert.notEqual(big.code, 0);
    assert.match(
      big.stderr,
      /exceeded quota: storage, requested: requests\.storage=2Gi, used: requests\.storage=2147483648, limited: requests\.storage=3Gi/,
    );
    const q = await srv.client.get(RESOURCEQUOTAS, "quota-claims", "storage");
    // A sum keeps the format of what it adds to (the hand-written "0"), as upstream's Quantity.Add.
    assert.equal(
      (q as { status?: { used?: Record<string, string> } }).status?.used?.["requests.storage"],
      "2147483648",
    );
    await kc.ok(["delete", "namespace", "quota-claims", "--wait=false"]);
  });
});

/**
 * Ages ("9s", "2m10s") vary between two runs: they compare as AGE, and since a wider age widens
 * its column, runs of padding compare as two spaces.
 */
const normalizeAges = (out: string) =>
  out.replace(/(?<=[\s(])\d+[smhd](\d+[smh])?(?=[\s)]|$)/g, "AGE").replace(/ {2,}/g, "  ");

describe("the kubeling CLI and the real kubectl", () => {
  const kubeling = async (args: string[]) => {
    const r = await runCli(["--kubeconfig", srv.kubeconfigPath, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const event = (kind: string, name: string, namespace: string, uid: string | undefined) => ({
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${name}.test`, namespace: namespace || "default" },
    involvedObject: { kind, name, namespace, uid, apiVersion: kind === "StorageClass" ? "storage.k8s.io/v1" : "v1" },
    reason: "Testing",
    message: `an event about ${name}`,
    type: "Normal",
    source: { component: "storage-test" },
    firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    count: 1,
  });

  before(async () => {
    await kc.ok(["apply", "-f", "-"], {
      input: `apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-cli
  labels: {tier: disk, zone: a}
  annotations: {note: local disk}
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: local
  claimRef: {namespace: default, name: claim-cli}
  local: {path: /mnt/disks/one}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - {key: kubernetes.io/hostname, operator: In, values: [node-1, node-2]}
            - {key: disk, operator: Exists}
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: host-cli
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOncePod]
  hostPath: {path: /tmp/host-cli, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim-cli
  labels: {app: db}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local
  volumeName: local-cli
  resources: {requests: {storage: 5Gi}}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
spec:
  nodeName: node-1
  containers: [{name: db, image: kubeling.local/busybox:latest}]
  volumes: [{name: data, persistentVolumeClaim: {claimName: claim-cli}}]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
parameters: {type: ssd, fs: ext4}
volumeBindingMode: WaitForFirstConsumer
allowVolumeExpansion: true
mountOptions: [noatime]
allowedTopologies:
  - matchLabelExpressions:
      - {key: topology.kubernetes.io/zone, values: [a, b]}
`,
    });
    await kc.ok([
      "patch",
      "pvc",
      "claim-cli",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Bound","accessModes":["ReadWriteOnce"],"capacity":{"storage":"5Gi"}}}',
    ]);
    await kc.ok([
      "patch",
      "pv",
      "local-cli",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Bound"}}',
    ]);
    const pv = await srv.client.get(PERSISTENTVOLUMES, undefined, "local-cli");
    const pvc = await srv.client.get(PERSISTENTVOLUMECLAIMS, "default", "claim-cli");
    const sc = await srv.client.get(STORAGECLASSES, undefined, "local");
    await srv.client.create(EVENTS, "default", event("PersistentVolume", "local-cli", "", pv.metadata.uid));
    await srv.client.create(
      EVENTS,
      "default",
      event("PersistentVolumeClaim", "claim-cli", "default", pvc.metadata.uid),
    );
    await srv.client.create(EVENTS, "default", event("StorageClass", "local", "", sc.metadata.uid));
  });

  test("get pv,pvc,sc prints kubectl's tables", async () => {
    for (const args of [
      ["get", "pv,pvc,sc"],
      ["get", "pv", "-o", "wide"],
      ["get", "pvc", "-o", "wide"],
      ["get", "sc"],
    ]) {
      const k = await kc.ok(args);
      assert.equal(normalizeAges(await kubeling(args)), normalizeAges(k), args.join(" "));
    }
    const pvc = rows(await kc.ok(["get", "pvc", "claim-cli"]));
    assert.deepEqual(pvc[1]?.slice(0, 7), ["claim-cli", "Bound", "local-cli", "5Gi", "RWO", "local", "<unset>"]);
    const sc = rows(await kc.ok(["get", "sc", "local"]));
    assert.deepEqual(sc[1]?.slice(0, 5), [
      "local (default)",
      "kubernetes.io/no-provisioner",
      "Delete",
      "WaitForFirstConsumer",
      "true",
    ]);
  });

  test("describe pv, pvc and sc: kubeling's text is kubectl's, events included", async () => {
    for (const args of [
      ["describe", "pv", "local-cli"],
      ["describe", "pv", "host-cli"],
      ["describe", "pvc", "claim-cli"],
      ["describe", "sc", "local"],
    ]) {
      const k = await kc.ok(args);
      assert.equal(normalizeAges(await kubeling(args)), normalizeAges(k), args.join(" "));
    }
    const pv = await kc.ok(["describe", "pv", "local-cli"]);
    assert.match(
      pv,
      /\nNode Affinity:\s*\n {2}Required Terms:\s*\n {4}Term 0:\s+kubernetes\.io\/hostname in \[node-1, node-2\]\n\s+disk exists\n/,
    );
    assert.match(pv, /\nEvents:\n.*\n.*\n {2}Normal\s+Testing\s+\S+\s+storage-test\s+an event about local-cli\n$/);
    const pvc = await kc.ok(["describe", "pvc", "claim-cli"]);
    assert.match(pvc, /\nUsed By:\s+db-0\n/);
    assert.match(pvc, /an event about claim-cli\n$/);
  });
});
