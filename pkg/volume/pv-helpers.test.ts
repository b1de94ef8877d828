import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { PersistentVolume, PersistentVolumeClaim } from "../api/types/index.js";
import { bindVolumeToClaim, checkNodeAffinity, findMatchingVolume, isVolumeBoundToClaim } from "./pv-helpers.js";

const claim = (o: Partial<NonNullable<PersistentVolumeClaim["spec"]>> = {}): PersistentVolumeClaim => ({
  metadata: { name: "data", namespace: "default", uid: "u1" },
  spec: {
    accessModes: ["ReadWriteOnce"],
    resources: { requests: { storage: "2Gi" } },
    storageClassName: "local",
    ...o,
  },
});

const pv = (
  name: string,
  size: string,
  o: Partial<NonNullable<PersistentVolume["spec"]>> & { phase?: string; labels?: Record<string, string> } = {},
): PersistentVolume => {
  const { phase, labels, ...spec } = o;
  return {
    metadata: { name, ...(labels ? { labels } : {}) },
    spec: { capacity: { storage: size }, accessModes: ["ReadWriteOnce"], storageClassName: "local", ...spec },
    status: { phase: phase ?? "Available" },
  };
};

const onNode = (node: string) => ({
  required: {
    nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] }],
  },
});
const node = (name: string) => ({ metadata: { name, labels: { "kubernetes.io/hostname": name } } });

describe("pv helpers", () => {
  test("findMatchingVolume: the smallest Available PV of the class that fits, admits the node and matches the selector", () => {
    const vols = [
      pv("big", "10Gi"),
      pv("small", "1Gi"),
      pv("right", "3Gi"),
      pv("other-class", "2Gi", { storageClassName: "fast" }),
      pv("released", "2Gi", { phase: "Released" }),
      pv("elsewhere", "2Gi", { nodeAffinity: onNode("b") }),
    ];
    assert.equal(findMatchingVolume(claim(), vols, node("a"), new Set(), true)?.metadata.name, "right");
    assert.equal(findMatchingVolume(claim(), vols, node("b"), new Set(), true)?.metadata.name, "elsewhere");
    assert.equal(findMatchingVolume(claim(), vols, node("a"), new Set(["right"]), true)?.metadata.name, "big");
    // The binder's path (no node) leaves delayed-binding claims to the scheduler.
    assert.equal(findMatchingVolume(claim(), vols, undefined, new Set(), true), undefined);
    // ...and does not look at node affinity.
    assert.equal(findMatchingVolume(claim(), vols, undefined, new Set(), false)?.metadata.name, "elsewhere");
    const selective = claim({ selector: { matchLabels: { tier: "gold" } } });
    assert.equal(
      findMatchingVolume(
        selective,
        [...vols, pv("gold", "5Gi", { labels: { tier: "gold" } })],
        node("a"),
        new Set(),
        true,
      )?.metadata.name,
      "gold",
    );
    assert.equal(
      findMatchingVolume(claim({ accessModes: ["ReadWriteMany"] }), vols, node("a"), new Set(), true),
      undefined,
    );
  });

  test("a PV pre-bound to the claim wins, unless it does not admit the node", () => {
    const pre = pv("pre", "5Gi", { claimRef: { namespace: "default", name: "data" }, nodeAffinity: onNode("a") });
    const vols = [pv("right", "2Gi"), pre];
    assert.equal(findMatchingVolume(claim(), vols, node("a"), new Set(), true)?.metadata.name, "pre");
    assert.equal(findMatchingVolume(claim(), vols, node("b"), new Set(), true), undefined);
    assert.equal(
      isVolumeBoundToClaim(pv("x", "1Gi", { claimRef: { namespace: "default", name: "data", uid: "u2" } }), claim()),
      false,
    );
  });

  test("checkNodeAffinity matches labels; bindVolumeToClaim sets the claimRef and bound-by-controller once", () => {
    assert.equal(checkNodeAffinity(pv("x", "1Gi", { nodeAffinity: onNode("a") }), node("a")), true);
    assert.equal(checkNodeAffinity(pv("x", "1Gi", { nodeAffinity: onNode("a") }), node("b")), false);
    assert.equal(checkNodeAffinity(pv("x", "1Gi"), node("b")), true);
    const { volume, dirty } = bindVolumeToClaim(pv("x", "1Gi"), claim());
    assert.equal(dirty, true);
    assert.deepEqual(
      [volume.spec?.claimRef?.name, volume.spec?.claimRef?.uid, volume.metadata.annotations],
      ["data", "u1", { "pv.kubernetes.io/bound-by-controller": "yes" }],
    );
    assert.equal(bindVolumeToClaim(volume, claim()).dirty, false);
  });
});
