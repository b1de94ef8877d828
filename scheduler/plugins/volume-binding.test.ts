import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ANN_SELECTED_NODE, type PersistentVolumeClaim, type Pod } from "#pkg/api/types/index.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { FitError, Framework } from "../framework/runtime.js";
import { CycleState, type Status } from "../framework/types.js";
import {
  makeClaim as claim,
  FakeVolumes,
  makeNode,
  makePod,
  nodeInfo,
  podWithClaims as podWith,
  makeStorageClass as storageClass,
  makeVolume as volume,
} from "../testing.js";
import { buildProfile } from "./registry.js";
import {
  ERR_REASON_BIND_CONFLICT,
  ERR_REASON_NODE_CONFLICT,
  matchTopologySelectorTerms,
  type VolumeBinding,
} from "./volume-binding.js";

function setup() {
  const h = new FakeVolumes();
  const clock = new FakeClock();
  const nodes = [makeNode("a", { labels: { zone: "z1" } }), makeNode("b", { labels: { zone: "z2" } })];
  for (const n of nodes) h.addNode(n);
  const fw = new Framework(
    buildProfile(undefined, undefined, { volumes: h, volumeBindingArgs: { clock, bindTimeoutMs: 30_000 } }),
  );
  const plugin = fw.profile.reserves.find((p) => p.name === "VolumeBinding") as VolumeBinding;
  const infos = nodes.map((n) => nodeInfo(n));
  return { h, clock, fw, plugin, infos };
}

function fitMessage(fw: Framework, pod: Pod, infos: ReturnType<typeof setup>["infos"]): string {
  try {
    fw.schedule(new CycleState(), pod, infos);
  } catch (err) {
    assert.ok(err instanceof FitError, String(err));
    return err.message;
  }
  assert.fail("the pod was scheduled");
}

const NOT_HELPFUL = "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";

describe("VolumeBinding", () => {
  test("a pod without claims skips the plugin", () => {
    const { fw, infos } = setup();
    const state = new CycleState();
    fw.schedule(state, makePod("p"), infos);
    assert.ok(state.skipFilterPlugins.has("VolumeBinding"));
  });

  test("a missing claim and an unbound immediate claim reject the pod on every node (PreFilter)", () => {
    const { h, fw, infos } = setup();
    assert.equal(
      fitMessage(fw, podWith("p", "data"), infos),
      `0/2 nodes are available: persistentvolumeclaim "data" not found. ${NOT_HELPFUL}`,
    );
    h.putClaim(claim("data", { class: "" }));
    const unbound = `0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${NOT_HELPFUL}`;
    assert.equal(fitMessage(fw, podWith("p", "data"), infos), unbound);
    // A class that does not exist is Immediate too (the PV controller reports it on the claim).
    h.putClaim(claim("data", { class: "missing" }));
    assert.equal(fitMessage(fw, podWith("p", "data"), infos), unbound);
    h.classes.set("fast", storageClass("fast"));
    h.putClaim(claim("data", { class: "fast" }));
    assert.equal(fitMessage(fw, podWith("p", "data"), infos), unbound);
    const lost = claim("data", { class: "fast", volumeName: "gone" });
    lost.status = { phase: "Lost" };
    h.putClaim(lost);
    assert.equal(
      fitMessage(fw, podWith("p", "data"), infos),
      `0/2 nodes are available: persistentvolumeclaim "data" bound to non-existent persistentvolume "gone". ${NOT_HELPFUL}`,
    );
  });

  test("a bound claim's PV node affinity steers the pod; none admitting a node is a node affinity conflict", () => {
    const { h, fw, infos } = setup();
    h.putVolume(volume("pv-b", { node: "b", claim: "data" }));
    h.putClaim(claim("data", { volumeName: "pv-b", bound: true }));
    for (let i = 0; i < 5; i++) assert.equal(fw.schedule(new CycleState(), podWith("p", "data"), infos).nodeName, "b");
    h.putVolume(volume("pv-b", { node: "c", claim: "data" }));
    assert.equal(
      fitMessage(fw, podWith("p", "data"), infos),
      `0/2 nodes are available: 2 ${ERR_REASON_NODE_CONFLICT}. ${NOT_HELPFUL}`,
    );
    h.pvs.delete("pv-b");
    assert.match(
      fitMessage(fw, podWith("p", "data"), infos),
      /2 node\(s\) unavailable due to one or more pvc\(s\) bound to non-existent pv\(s\)/,
    );
  });

  test("WaitForFirstConsumer with static PVs: only nodes an Available PV admits; Reserve takes the PV for the pod", async () => {
    const { h, fw, plugin, infos } = setup();
    h.classes.set("local", storageClass("local", { wffc: true, provisioner: "kubernetes.io/no-provisioner" }));
    h.putVolume(volume("pv-a", { node: "a", class: "local" }));
    h.putClaim(claim("one", { class: "local" }));
    h.putClaim(claim("two", { class: "local" }));
    const state = new CycleState();
    const pod = podWith("p", "one");
    assert.equal(fw.schedule(state, pod, infos).nodeName, "a");
    assert.equal(fw.runReserve(state, pod, "a").code, "Success");
    // The assumed claimRef keeps the PV from a second claim.
    assert.equal(
      fitMessage(fw, podWith("q", "two"), infos),
      `0/2 nodes are available: 2 ${ERR_REASON_BIND_CONFLICT}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.`,
    );
    const done = fw.runPreBind(state, pod, "a", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.writes, ["pv pv-a one"]);
    h.bind("one", "pv-a");
    assert.deepEqual(await done, { code: "Success", reasons: [] });
    assert.equal(plugin.pvs.get("pv-a")?.status?.phase, "Bound");
  });

  test("WaitForFirstConsumer with a provisioner: allowedTopologies pick the node; PreBind sets the selected node and waits for the binding", async () => {
    const { h, fw, plugin, infos } = setup();
    h.classes.set("standard", storageClass("standard", { wffc: true, zones: ["z2"] }));
    h.putClaim(claim("data", { class: "standard" }));
    const state = new CycleState();
    const pod = podWith("p", "data");
    assert.equal(fw.schedule(state, pod, infos).nodeName, "b");
    assert.equal(fw.runReserve(state, pod, "b").code, "Success");
    assert.equal(plugin.claims.get("default/data")?.metadata.annotations?.[ANN_SELECTED_NODE], "b");
    // A second pod of the same claim follows the selected node.
    assert.equal(fw.schedule(new CycleState(), podWith("q", "data"), infos).nodeName, "b");
    const bound = fw.runPreBind(state, pod, "b", new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h.writes, ["pvc data b"]);
    let settled = false;
    void bound.then(() => {
      settled = true;
    });
    // The provisioner made the PV; the claim is not bound yet.
    h.putVolume(volume("pvc-data", { node: "b", class: "standard" }));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    h.bind("data", "pvc-data");
    assert.equal((await bound).code, "Success");
  });

  test("PreBind fails when the provisioner gives the node back, or on timeout; Unreserve drops the assumption", async () => {
    const { h, fw, plugin, clock, infos } = setup();
    h.classes.set("standard", storageClass("standard", { wffc: true }));
    h.putClaim(claim("data", { class: "standard" }));
    let state = new CycleState();
    const pod = podWith("p", "data");
    const node = fw.schedule(state, pod, infos).nodeName;
    fw.runReserve(state, pod, node);
    let pre = fw.runPreBind(state, pod, node, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    const reset = structuredClone(h.claims.get("default/data") as PersistentVolumeClaim);
    delete reset.metadata.annotations?.[ANN_SELECTED_NODE];
    h.putClaim(reset);
    assert.deepEqual(await pre, {
      code: "Error",
      reasons: ['running PreBind plugin "VolumeBinding": binding volumes: provisioning failed for PVC "data"'],
      plugin: "VolumeBinding",
    } satisfies Status);
    fw.runUnreserve(state, pod, node);
    assert.equal(plugin.claims.assumedCount, 0);

    state = new CycleState();
    fw.schedule(state, pod, infos);
    fw.runReserve(state, pod, node);
    pre = fw.runPreBind(state, pod, node, new AbortController().signal);
    await new Promise((r) => setImmediate(r));
    clock.step(30_000);
    assert.equal(
      (await pre).reasons[0],
      'running PreBind plugin "VolumeBinding": binding volumes: timed out waiting for the condition',
    );
  });

  test("a class without a provisioner and no matching PV: no node fits", () => {
    const { h, fw, infos } = setup();
    h.classes.set("local", storageClass("local", { wffc: true, provisioner: "kubernetes.io/no-provisioner" }));
    h.putVolume(volume("small", { class: "local", size: "1Gi" }));
    h.putClaim(claim("data", { class: "local", size: "5Gi" }));
    assert.equal(
      fitMessage(fw, podWith("p", "data"), infos),
      `0/2 nodes are available: 2 ${ERR_REASON_BIND_CONFLICT}. ${NOT_HELPFUL}`,
    );
  });

  test("matchTopologySelectorTerms", () => {
    assert.equal(matchTopologySelectorTerms(undefined, {}), true);
    const terms = [{ matchLabelExpressions: [{ key: "zone", values: ["z1", "z2"] }] }];
    assert.equal(matchTopologySelectorTerms(terms, { zone: "z2" }), true);
    assert.equal(matchTopologySelectorTerms(terms, { zone: "z3" }), false);
    assert.equal(matchTopologySelectorTerms(terms, {}), false);
  });
});
