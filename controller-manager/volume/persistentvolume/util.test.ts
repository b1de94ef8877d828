import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Node, PersistentVolume, PersistentVolumeClaim } from "#pkg/api/types/index.js";
import { findBestMatchForClaim, isVolumeBoundToClaim, volumeFitsNode, volumeSatisfiesClaim } from "./util.js";

function pv(
  name: string,
  size: string,
  o: {
    modes?: string[];
    cls?: string;
    labels?: Record<string, string>;
    mode?: string;
    phase?: string;
    claimRef?: { namespace: string; name: string; uid?: string };
    node?: string;
  } = {},
): PersistentVolume {
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      capacity: { storage: size },
      accessModes: o.modes ?? ["ReadWriteOnce"],
      storageClassName: o.cls ?? "",
      ...(o.mode ? { volumeMode: o.mode } : {}),
      ...(o.claimRef ? { claimRef: o.claimRef } : {}),
      ...(o.node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [o.node] }] },
                ],
              },
            },
          }
        : {}),
      hostPath: { path: `/tmp/${name}` },
    },
    status: { phase: o.phase ?? "Available" },
  };
}

function pvc(
  size: string,
  o: { modes?: string[]; cls?: string; selector?: Record<string, string>; mode?: string; name?: string } = {},
): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: o.name ?? "data", namespace: "default", uid: "u-1" },
    spec: {
      accessModes: o.modes ?? ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      storageClassName: o.cls ?? "",
      ...(o.selector ? { selector: { matchLabels: o.selector } } : {}),
      ...(o.mode ? { volumeMode: o.mode } : {}),
    },
  };
}

const node = (name: string): Node => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name, labels: { "kubernetes.io/hostname": name } },
});
const best = (claim: PersistentVolumeClaim, vols: PersistentVolume[], n?: Node, delay = false) =>
  findBestMatchForClaim(claim, vols, n, delay)?.metadata.name;

describe("findBestMatchForClaim", () => {
  test("the smallest volume that fits, in Gi and G alike", () => {
    const vols = [pv("big", "10Gi"), pv("small", "1Gi"), pv("exact", "2G"), pv("tiny", "500Mi")];
    assert.equal(best(pvc("1Gi"), vols), "small");
    assert.equal(best(pvc("1.5Gi"), vols), "exact");
    assert.equal(best(pvc("3Gi"), vols), "big");
    assert.equal(best(pvc("20Gi"), vols), undefined);
  });

  test("class, volumeMode, selector and phase must match", () => {
    const vols = [
      pv("fast", "1Gi", { cls: "fast" }),
      pv("block", "1Gi", { mode: "Block" }),
      pv("labelled", "5Gi", { labels: { tier: "gold" } }),
      pv("released", "1Gi", { phase: "Released" }),
      pv("plain", "2Gi"),
    ];
    assert.equal(best(pvc("1Gi", { cls: "fast" }), vols), "fast");
    assert.equal(best(pvc("1Gi", { mode: "Block" }), vols), "block");
    assert.equal(best(pvc("1Gi", { selector: { tier: "gold" } }), vols), "labelled");
    assert.equal(best(pvc("1Gi"), vols), "plain");
    assert.equal(best(pvc("1Gi", { cls: "slow" }), vols), undefined);
  });

  test("access modes: every mode asked for, the fewest extra modes first", () => {
    const vols = [pv("rwo-rox", "1Gi", { modes: ["ReadWriteOnce", "ReadOnlyMany"] }), pv("rwo", "5Gi")];
    // A smaller volume with more modes loses to a bigger one with just the modes asked for.
    assert.equal(best(pvc("1Gi"), vols), "rwo");
    assert.equal(best(pvc("1Gi", { modes: ["ReadOnlyMany"] }), vols), "rwo-rox");
    assert.equal(best(pvc("1Gi", { modes: ["ReadWriteMany"] }), vols), undefined);
  });

  test("a volume pre-bound to the claim wins; one pre-bound to another claim is skipped", () => {
    const vols = [
      pv("small", "1Gi"),
      pv("mine", "5Gi", { claimRef: { namespace: "default", name: "data" } }),
      pv("theirs", "1Gi", { claimRef: { namespace: "default", name: "other" } }),
    ];
    assert.equal(best(pvc("1Gi"), vols), "mine");
    assert.equal(best(pvc("1Gi", { name: "third" }), vols), "small");
    // Pre-bound but too small: not taken.
    assert.equal(best(pvc("10Gi"), vols), undefined);
  });

  test("delayed binding takes only pre-bound volumes without a node; with one, what fits it", () => {
    const vols = [pv("n1", "1Gi", { node: "node-1" }), pv("n2", "1Gi", { node: "node-2" }), pv("any", "5Gi")];
    assert.equal(best(pvc("1Gi"), vols, undefined, true), undefined);
    assert.equal(best(pvc("1Gi"), vols, node("node-2"), true), "n2");
    assert.equal(best(pvc("2Gi"), vols, node("node-2"), true), "any");
    const prebound = pv("pre", "1Gi", { claimRef: { namespace: "default", name: "data" }, node: "node-1" });
    assert.equal(best(pvc("1Gi"), [prebound], undefined, true), "pre");
    assert.equal(best(pvc("1Gi"), [prebound], node("node-2"), true), undefined);
  });
});

test("volumeSatisfiesClaim gives upstream's reasons", () => {
  assert.equal(volumeSatisfiesClaim(pv("a", "1Gi"), pvc("1Gi")), undefined);
  assert.equal(volumeSatisfiesClaim(pv("a", "1Gi"), pvc("2Gi")), "requested PV is too small");
  assert.equal(volumeSatisfiesClaim(pv("a", "1Gi", { cls: "x" }), pvc("1Gi")), "storageClassName does not match");
  assert.equal(volumeSatisfiesClaim(pv("a", "1Gi", { mode: "Block" }), pvc("1Gi")), "incompatible volumeMode");
  assert.equal(
    volumeSatisfiesClaim(pv("a", "1Gi"), pvc("1Gi", { modes: ["ReadWriteMany"] })),
    "incompatible accessMode",
  );
});

test("isVolumeBoundToClaim: by namespace and name, uid empty or equal", () => {
  const claim = pvc("1Gi");
  assert.equal(isVolumeBoundToClaim(pv("a", "1Gi", { claimRef: { namespace: "default", name: "data" } }), claim), true);
  assert.equal(
    isVolumeBoundToClaim(pv("a", "1Gi", { claimRef: { namespace: "default", name: "data", uid: "u-1" } }), claim),
    true,
  );
  assert.equal(
    isVolumeBoundToClaim(pv("a", "1Gi", { claimRef: { namespace: "default", name: "data", uid: "u-2" } }), claim),
    false,
  );
  assert.equal(isVolumeBoundToClaim(pv("a", "1Gi", { claimRef: { namespace: "other", name: "data" } }), claim), false);
  assert.equal(volumeFitsNode(pv("a", "1Gi", { node: "node-1" }), node("node-1")), true);
  assert.equal(volumeFitsNode(pv("a", "1Gi", { node: "node-1" }), node("node-2")), false);
  assert.equal(volumeFitsNode(pv("a", "1Gi"), node("node-2")), true);
});
