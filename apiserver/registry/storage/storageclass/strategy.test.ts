import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { STORAGECLASSES } from "#pkg/api/resources.js";
import type { StorageClass } from "#pkg/api/types/storage.js";
import { strategyFor } from "../../strategies.js";

const messages = (errs: Array<{ field: string; message: string }>) => errs.map((e) => `${e.field}: ${e.message}`);
const NOW = new Date("2026-01-01T00:10:00Z");

describe("StorageClass strategy", () => {
  const s = strategyFor(STORAGECLASSES);
  const sc = (over: Partial<StorageClass> = {}): StorageClass => ({
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: { name: "standard", creationTimestamp: "2026-01-01T00:00:00Z" },
    provisioner: "rancher.io/local-path",
    ...over,
  });

  test("defaults: reclaimPolicy Delete, volumeBindingMode Immediate", () => {
    const obj = sc();
    s.applyDefaults(obj);
    s.prepareForCreate(obj);
    assert.equal(obj.reclaimPolicy, "Delete");
    assert.equal(obj.volumeBindingMode, "Immediate");
    assert.equal((obj as { status?: unknown }).status, undefined);
    assert.deepEqual(s.validate(obj), []);
  });

  test("validation in upstream's words", () => {
    const bad = sc({ provisioner: "", reclaimPolicy: "Recycle", volumeBindingMode: "Later" });
    assert.deepEqual(messages(s.validate(bad)), [
      "provisioner: Required value",
      'reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"',
      'volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"',
    ]);
    const badName = sc({ provisioner: "a/b/c", volumeBindingMode: "Immediate" });
    assert.match(
      messages(s.validate(badName))[0] ?? "",
      /^provisioner: Invalid value: "a\/b\/c": a qualified name must/,
    );
    const topo = sc({
      volumeBindingMode: "Immediate",
      allowedTopologies: [
        { matchLabelExpressions: [{ key: "zone", values: ["a", "a"] }] },
        { matchLabelExpressions: [{ key: "zone", values: ["a"] }] },
      ],
    });
    assert.deepEqual(messages(s.validate(topo)), [
      'allowedTopologies[0].matchLabelExpressions[0].values[1]: Duplicate value: "a"',
      'allowedTopologies[1].matchLabelExpressions: Duplicate value: ""',
    ]);
  });

  test("provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable", () => {
    const old = sc({ parameters: { a: "1" } });
    s.applyDefaults(old);
    const next = sc({
      provisioner: "example.com/other",
      parameters: { a: "2" },
      reclaimPolicy: "Retain",
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
    assert.deepEqual(messages(s.validateUpdate(next, old)), [
      "parameters: Forbidden: updates to parameters are forbidden.",
      "provisioner: Forbidden: updates to provisioner are forbidden.",
      "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
      'volumeBindingMode: Invalid value: "WaitForFirstConsumer": field is immutable',
    ]);
    const fine = sc({ parameters: { a: "1" }, allowVolumeExpansion: true });
    s.applyDefaults(fine);
    assert.deepEqual(s.validateUpdate(fine, old), []);
  });

  test("row: (default) after the default class's name", () => {
    const obj = sc({
      metadata: {
        name: "standard",
        creationTimestamp: "2026-01-01T00:00:00Z",
        annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      },
    });
    s.applyDefaults(obj);
    assert.deepEqual(s.row(obj, NOW), [
      "standard (default)",
      "rancher.io/local-path",
      "Delete",
      "Immediate",
      false,
      "10m",
    ]);
    assert.deepEqual(
      s.columns.map((c) => c.name),
      ["Name", "Provisioner", "ReclaimPolicy", "VolumeBindingMode", "AllowVolumeExpansion", "Age"],
    );
  });
});
