import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PERSISTENTVOLUMECLAIMS } from "#pkg/api/resources.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import { strategyFor } from "../../strategies.js";

const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-01T00:00:30Z");

const pvc = (
  spec: PersistentVolumeClaim["spec"],
  over: Partial<PersistentVolumeClaim> = {},
): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name: "data", namespace: "default", creationTimestamp: "2026-01-01T00:00:00Z" },
  spec,
  ...over,
});
const basic = (): PersistentVolumeClaim["spec"] => ({
  accessModes: ["ReadWriteOnce"],
  resources: { requests: { storage: "1Gi" } },
});

describe("PersistentVolumeClaim strategy", () => {
  const s = strategyFor(PERSISTENTVOLUMECLAIMS);

  test("defaults and create: Filesystem, Pending, status reset, dataSourceRef mirrors dataSource", () => {
    const obj = pvc(
      { ...basic(), dataSource: { kind: "PersistentVolumeClaim", name: "src" } },
      { status: { phase: "Bound", capacity: { storage: "9Gi" } } },
    );
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    assert.equal(obj.spec?.volumeMode, "Filesystem");
    assert.deepEqual(obj.status, { phase: "Pending" });
    assert.deepEqual(obj.spec?.dataSourceRef, { kind: "PersistentVolumeClaim", name: "src" });
    assert.deepEqual(s.validate(obj), []);
  });

  test("validation in upstream's words", () => {
    assert.deepEqual(messages(s.validate(pvc({}))), [
      "spec.accessModes: Required value: at least 1 access mode is required",
      "spec.resources[storage]: Required value",
    ]);
    const bad = pvc({
      accessModes: ["ReadWriteOnce", "Nope"],
      resources: { requests: { storage: "-1Gi" } },
      storageClassName: "UPPER",
      volumeMode: "Raw",
      selector: { matchExpressions: [{ key: "a", operator: "Maybe" }] },
      dataSource: { kind: "Secret", name: "s" },
    });
    assert.deepEqual(messages(s.validate(bad)), [
      'spec.selector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator',
      'spec.accessModes: Unsupported value: "Nope": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.resources[storage]: Invalid value: "-1Gi": must be greater than zero',
      `spec.storageClassName: Invalid value: "UPPER": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
      'spec.volumeMode: Unsupported value: "Raw": supported values: "Block", "Filesystem"',
      `spec.dataSource: Invalid value: "Secret": must be 'PersistentVolumeClaim' when referencing the default apiGroup`,
    ]);
  });

  test("spec is immutable except a bound claim's storage request (growing) and volumeName set once", () => {
    const old = pvc(basic(), { status: { phase: "Pending" } });
    s.applyDefaults(old);
    // Resizing a pending claim is a spec change.
    const grow = structuredClone(old);
    grow.spec = { ...grow.spec, resources: { requests: { storage: "2Gi" } } };
    const errs = messages(s.validateUpdate(grow, old));
    assert.equal(errs.length, 1);
    assert.match(
      errs[0] ?? "",
      /^spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n/,
    );
    // Bound: growing is fine, shrinking is not.
    const bound = structuredClone(old);
    bound.status = { phase: "Bound" };
    const grown = structuredClone(bound);
    grown.spec = { ...grown.spec, resources: { requests: { storage: "2Gi" } } };
    assert.deepEqual(s.validateUpdate(grown, bound), []);
    const shrunk = structuredClone(bound);
    shrunk.spec = { ...shrunk.spec, resources: { requests: { storage: "512Mi" } } };
    assert.deepEqual(messages(s.validateUpdate(shrunk, bound)), [
      "spec.resources.requests.storage: Forbidden: field can not be less than previous value",
    ]);
    // volumeName once; a class may be set on a claim that had none (retroactive default).
    const named = structuredClone(old);
    named.spec = { ...named.spec, volumeName: "pv1", storageClassName: "standard" };
    assert.deepEqual(s.validateUpdate(named, old), []);
    const renamed = structuredClone(named);
    renamed.spec = { ...renamed.spec, volumeName: "pv2" };
    assert.equal(s.validateUpdate(renamed, named).length, 1);
    const modeChange = structuredClone(old);
    modeChange.spec = { ...modeChange.spec, volumeMode: "Block" };
    assert.deepEqual(messages(s.validateUpdate(modeChange, old)).slice(-1), [
      'volumeMode: Invalid value: "Block": field is immutable',
    ]);
  });

  test("a status update's capacity must be a valid quantity", () => {
    const old = pvc(basic(), { status: { phase: "Pending" } });
    s.applyDefaults(old);
    const next = structuredClone(old);
    next.status = { phase: "Bound", capacity: { storage: "-1Gi" } };
    s.prepareForStatusUpdate(next, old);
    assert.deepEqual(messages(s.validateUpdate(next, old)), [
      'status.capacity[storage]: Invalid value: "-1Gi": must be a valid resource quantity',
    ]);
  });

  test("row: capacity and access modes only once a volume is named", () => {
    const obj = pvc({ ...basic(), storageClassName: "standard" }, { status: { phase: "Pending" } });
    s.applyDefaults(obj);
    assert.deepEqual(s.row(obj, NOW), ["data", "Pending", "", "", "", "standard", "<unset>", "30s", "Filesystem"]);
    obj.spec = { ...obj.spec, volumeName: "pv1" };
    obj.status = { phase: "Bound", capacity: { storage: "2Gi" }, accessModes: ["ReadWriteOnce"] };
    assert.deepEqual(s.row(obj, NOW), [
      "data",
      "Bound",
      "pv1",
      "2Gi",
      "RWO",
      "standard",
      "<unset>",
      "30s",
      "Filesystem",
    ]);
    assert.deepEqual(
      s.columns.map((c) => c.name),
      [
        "Name",
        "Status",
        "Volume",
        "Capacity",
        "Access Modes",
        "StorageClass",
        "VolumeAttributesClass",
        "Age",
        "VolumeMode",
      ],
    );
  });
});
