import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES } from "#pkg/api/resources.js";
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from "#pkg/api/types/storage.js";
import { DEFAULT_ADMISSION_PLUGINS } from "../plugins.js";
import { attrs, fakeContext } from "../testing.js";
import {
  defaultClass,
  newDefaultStorageClass,
  newPersistentVolumeClaimResize,
  newStorageObjectInUseProtection,
} from "./admission.js";

const sc = (name: string, o: { def?: boolean; created?: string; expand?: boolean } = {}): StorageClass => ({
  apiVersion: "storage.k8s.io/v1",
  kind: "StorageClass",
  metadata: {
    name,
    creationTimestamp: o.created ?? "2026-01-01T00:00:00Z",
    ...(o.def ? { annotations: { "storageclass.kubernetes.io/is-default-class": "true" } } : {}),
  },
  provisioner: "example.com/p",
  ...(o.expand !== undefined ? { allowVolumeExpansion: o.expand } : {}),
});

const claim = (
  spec: PersistentVolumeClaim["spec"] = {},
  over: Partial<PersistentVolumeClaim> = {},
): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name: "data", namespace: "ns" },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...spec },
  ...over,
});

describe("storage admission", () => {
  test("on by default, in upstream's order", () => {
    const names = DEFAULT_ADMISSION_PLUGINS;
    const i = names.indexOf("DefaultStorageClass");
    assert.ok(i > names.indexOf("DefaultTolerationSeconds"));
    assert.equal(names[i + 1], "StorageObjectInUseProtection");
    assert.equal(names[i + 2], "PersistentVolumeClaimResize");
    assert.ok(names.indexOf("ResourceQuota") > i + 2);
  });

  test("DefaultStorageClass: the newest default class, only for claims naming none", async () => {
    const classes = [
      sc("old-default", { def: true, created: "2025-01-01T00:00:00Z" }),
      sc("b-default", { def: true, created: "2026-01-01T00:00:00Z" }),
      sc("a-default", { def: true, created: "2026-01-01T00:00:00Z" }),
      sc("plain", { created: "2027-01-01T00:00:00Z" }),
    ];
    assert.equal(defaultClass(classes)?.metadata.name, "a-default");
    const plugin = newDefaultStorageClass(fakeContext({ objects: { "storage.k8s.io/storageclasses": classes } }));
    const pvc = claim();
    await plugin.admit?.(attrs(PERSISTENTVOLUMECLAIMS, "CREATE", { namespace: "ns", object: pvc }).a);
    assert.equal(pvc.spec?.storageClassName, "a-default");
    // "" asks for no class; a named class or the beta annotation are kept.
    for (const given of [
      claim({ storageClassName: "" }),
      claim({ storageClassName: "plain" }),
      claim({}, { metadata: { name: "x", annotations: { "volume.beta.kubernetes.io/storage-class": "plain" } } }),
    ]) {
      const before = structuredClone(given.spec);
      await plugin.admit?.(attrs(PERSISTENTVOLUMECLAIMS, "CREATE", { namespace: "ns", object: given }).a);
      assert.deepEqual(given.spec, before);
    }
    const none = newDefaultStorageClass(fakeContext({ objects: { "storage.k8s.io/storageclasses": [sc("plain")] } }));
    const unclassed = claim();
    await none.admit?.(attrs(PERSISTENTVOLUMECLAIMS, "CREATE", { namespace: "ns", object: unclassed }).a);
    assert.equal(unclassed.spec?.storageClassName, undefined);
  });

  test("StorageObjectInUseProtection adds the finalizers once", async () => {
    const plugin = newStorageObjectInUseProtection();
    const pvc = claim({}, { metadata: { name: "data", namespace: "ns", finalizers: ["example.com/keep"] } });
    await plugin.admit?.(attrs(PERSISTENTVOLUMECLAIMS, "CREATE", { namespace: "ns", object: pvc }).a);
    await plugin.admit?.(attrs(PERSISTENTVOLUMECLAIMS, "CREATE", { namespace: "ns", object: pvc }).a);
    assert.deepEqual(pvc.metadata.finalizers, ["example.com/keep", "kubernetes.io/pvc-protection"]);
    const pv: PersistentVolume = { apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv1" }, spec: {} };
    await plugin.admit?.(attrs(PERSISTENTVOLUMES, "CREATE", { object: pv }).a);
    assert.deepEqual(pv.metadata.finalizers, ["kubernetes.io/pv-protection"]);
    assert.equal(plugin.handles("UPDATE"), false);
  });

  test("PersistentVolumeClaimResize: growth only for bound claims of an expandable class", async () => {
    const ctx = fakeContext({
      objects: { "storage.k8s.io/storageclasses": [sc("fixed"), sc("grows", { expand: true })] },
    });
    const plugin = newPersistentVolumeClaimResize(ctx);
    const resize = async (cls: string, phase: string, from: string, to: string) => {
      const old = claim({ storageClassName: cls, resources: { requests: { storage: from } } }, { status: { phase } });
      const next = claim({ storageClassName: cls, resources: { requests: { storage: to } } }, { status: { phase } });
      const { a } = attrs(PERSISTENTVOLUMECLAIMS, "UPDATE", { namespace: "ns", object: next, oldObject: old });
      return plugin.validate?.(a).then(
        () => "ok",
        (err: unknown) => (isStatusError(err) ? `${err.code} ${err.message}` : String(err)),
      );
    };
    assert.equal(await resize("grows", "Bound", "1Gi", "2Gi"), "ok");
    assert.equal(await resize("fixed", "Bound", "1Gi", "1Gi"), "ok");
    assert.equal(
      await resize("fixed", "Bound", "1Gi", "2Gi"),
      '403 persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
    assert.equal(
      await resize("missing", "Bound", "1Gi", "2Gi"),
      '403 persistentvolumeclaims "data" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
    );
    assert.equal(
      await resize("grows", "Pending", "1Gi", "2Gi"),
      '403 persistentvolumeclaims "data" is forbidden: Only bound persistent volume claims can be expanded',
    );
  });
});
