import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PERSISTENTVOLUMES } from "#pkg/api/resources.js";
import type { PersistentVolume } from "#pkg/api/types/storage.js";
import { strategyFor } from "../../strategies.js";

const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-01T01:00:00Z");

const pv = (spec: PersistentVolume["spec"], over: Partial<PersistentVolume> = {}): PersistentVolume => ({
  apiVersion: "v1",
  kind: "PersistentVolume",
  metadata: { name: "pv1", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec,
  ...over,
});
const basic = (): PersistentVolume["spec"] => ({
  capacity: { storage: "1024Mi" },
  accessModes: ["ReadWriteOnce"],
  hostPath: { path: "/data/pv1" },
});

describe("PersistentVolume strategy", () => {
  const s = strategyFor(PERSISTENTVOLUMES);

  test("defaults and create: Retain, Filesystem, hostPath type, canonical capacity, Pending with a transition time", () => {
    const obj = pv(basic(), { status: { phase: "Bound" } });
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    assert.equal(obj.spec?.persistentVolumeReclaimPolicy, "Retain");
    assert.equal(obj.spec?.volumeMode, "Filesystem");
    assert.deepEqual(obj.spec?.hostPath, { path: "/data/pv1", type: "" });
    assert.deepEqual(obj.spec?.capacity, { storage: "1Gi" });
    assert.equal(obj.status?.phase, "Pending");
    assert.match(obj.status?.lastPhaseTransitionTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(s.validate(obj), []);
  });

  test("validation in upstream's words", () => {
    assert.deepEqual(messages(s.validate(pv({}))), [
      "spec.accessModes: Required value",
      "spec.capacity: Required value",
      'spec.capacity: Unsupported value: "storage": supported values: "storage"',
      "spec: Required value: must specify a volume type",
    ]);
    const bad = pv({
      capacity: { storage: "0", cpu: "1" },
      accessModes: ["ReadWriteOncePod", "ReadWriteOnce", "Sometimes"],
      persistentVolumeReclaimPolicy: "Keep",
      storageClassName: "Not_Valid",
      volumeMode: "Raw",
      hostPath: { path: "/a/../b", type: "Nope" },
      local: { path: "/x" },
    });
    assert.deepEqual(messages(s.validate(bad)), [
      'spec.accessModes: Unsupported value: "Sometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      "spec.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes",
      'spec.capacity: Unsupported value: "storage": supported values: "storage"',
      'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
      `spec.storageClassName: Invalid value: "Not_Valid": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep": supported values: "Delete", "Recycle", "Retain"',
      `spec.hostPath.path: Invalid value: "/a/../b": must not contain '..'`,
      'spec.hostPath.type: Unsupported value: "Nope": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
      "spec.local: Forbidden: may not specify more than 1 volume type",
      'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
    ]);
    const local = pv({ capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], local: { path: "/mnt/disk" } });
    assert.deepEqual(messages(s.validate(local)), [
      "spec.nodeAffinity: Required value: Local volume requires node affinity",
    ]);
    local.spec = { ...local.spec, nodeAffinity: { required: { nodeSelectorTerms: [] } } };
    assert.deepEqual(messages(s.validate(local)), [
      "spec.nodeAffinity.required.nodeSelectorTerms: Required value: must have at least one node selector term",
    ]);
    local.spec.nodeAffinity = {
      required: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["n1"] }] }],
      },
    };
    assert.deepEqual(s.validate(local), []);
  });

  test("csi: driver name, volume handle and secret references", () => {
    const csi = pv({
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      csi: { driver: "Bad_Driver", volumeHandle: "", nodePublishSecretRef: { name: "s" } },
    });
    assert.deepEqual(messages(s.validate(csi)), [
      `spec.csi.driver: Invalid value: "Bad_Driver": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      "spec.csi.volumeHandle: Required value",
      "spec.csi.nodePublishSecretRef.namespace: Required value",
    ]);
  });

  test("the volume source and volumeMode are immutable; claimRef, class, capacity may change", () => {
    const old = pv(basic());
    s.applyDefaults(old);
    const next = structuredClone(old);
    next.spec = { ...next.spec, hostPath: { path: "/elsewhere", type: "" }, volumeMode: "Block" };
    const errs = messages(s.validateUpdate(next, old));
    assert.equal(errs.length, 2);
    assert.match(
      errs[0] ?? "",
      /^spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation\n/,
    );
    assert.equal(errs[1], 'volumeMode: Invalid value: "Block": field is immutable');
    const ok = structuredClone(old);
    ok.spec = {
      ...ok.spec,
      capacity: { storage: "2Gi" },
      storageClassName: "manual",
      claimRef: { namespace: "default", name: "c" },
    };
    assert.deepEqual(s.validateUpdate(ok, old), []);
  });

  test("status updates move lastPhaseTransitionTime only when the phase moves", () => {
    const old = pv(basic(), { status: { phase: "Available", lastPhaseTransitionTime: "2020-01-01T00:00:00Z" } });
    const same = structuredClone(old);
    delete same.status?.lastPhaseTransitionTime;
    s.prepareForStatusUpdate(same, old);
    assert.equal(same.status?.lastPhaseTransitionTime, "2020-01-01T00:00:00Z");
    const moved = structuredClone(old);
    if (moved.status) moved.status.phase = "Bound";
    s.prepareForStatusUpdate(moved, old);
    assert.notEqual(moved.status?.lastPhaseTransitionTime, "2020-01-01T00:00:00Z");
  });

  test("row: upstream's cells; Terminating while being deleted", () => {
    const obj = pv(
      {
        ...basic(),
        capacity: { storage: "5Gi" },
        accessModes: ["ReadWriteMany", "ReadWriteOnce"],
        claimRef: { namespace: "ns", name: "c" },
        storageClassName: "manual",
      },
      { status: { phase: "Bound" } },
    );
    s.applyDefaults(obj);
    assert.deepEqual(s.row(obj, NOW), [
      "pv1",
      "5Gi",
      "RWO,RWX",
      "Retain",
      "Bound",
      "ns/c",
      "manual",
      "<unset>",
      "",
      "60m",
      "Filesystem",
    ]);
    obj.metadata.deletionTimestamp = "2026-01-01T00:30:00Z";
    assert.equal(s.row(obj, NOW)[4], "Terminating");
    assert.deepEqual(
      s.columns.map((c) => c.name),
      [
        "Name",
        "Capacity",
        "Access Modes",
        "Reclaim Policy",
        "Status",
        "Claim",
        "StorageClass",
        "VolumeAttributesClass",
        "Reason",
        "Age",
        "VolumeMode",
      ],
    );
  });
});
