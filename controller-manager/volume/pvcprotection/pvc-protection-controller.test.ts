import assert from "node:assert/strict";
import { test } from "node:test";
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PersistentVolume, PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import { abortFakeContexts, fakeControllerContext } from "#pkg/testing/controller-context.js";
import { FakeClient } from "#pkg/testing/fake-client.js";
import { waitFor } from "../../../test/harness/wait.js";
import { PVProtectionController } from "../pvprotection/pv-protection-controller.js";
import { claimNames, PVCProtectionController, podUsesClaim } from "./pvc-protection-controller.js";

const PVC_F = "kubernetes.io/pvc-protection";
const PV_F = "kubernetes.io/pv-protection";

const claim = (name: string, o: { deleting?: boolean; finalizers?: string[] } = {}): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: {
    name,
    namespace: "ns",
    finalizers: o.finalizers ?? [PVC_F],
    ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
});

const pod = (name: string, claimName: string, o: { node?: string; phase?: string } = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "ns", uid: `uid-${name}` },
  spec: {
    ...(o.node !== undefined ? { nodeName: o.node } : { nodeName: "node-1" }),
    containers: [{ name: "c", image: "busybox" }],
    volumes: [{ name: "data", persistentVolumeClaim: { claimName } }],
  },
  status: { phase: o.phase ?? "Running" },
});

async function start(client: FakeClient) {
  const ctx = fakeControllerContext({ client });
  const pvc = new PVCProtectionController(ctx);
  const pv = new PVProtectionController(ctx);
  const signal = await ctx.start();
  const running = [pvc.run(signal, 2), pv.run(signal, 1)];
  return async () => {
    abortFakeContexts();
    await Promise.all(running);
    await ctx.informers.stopped();
  };
}

const finalizersOf = (client: FakeClient, name: string) =>
  client.object<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, "ns", name)?.metadata.finalizers ?? [];

test("which pods use a claim: scheduled, not terminated, naming it (ephemeral volumes as <pod>-<volume>)", () => {
  const c = claim("data");
  assert.equal(podUsesClaim(pod("a", "data"), c), true);
  assert.equal(podUsesClaim(pod("a", "data", { node: "" }), c), false);
  assert.equal(podUsesClaim(pod("a", "data", { phase: "Succeeded" }), c), false);
  assert.equal(podUsesClaim(pod("a", "other"), c), false);
  const eph = pod("web", "x");
  eph.spec = { ...eph.spec, containers: [], volumes: [{ name: "scratch", ephemeral: {} }] };
  assert.deepEqual(claimNames(eph), ["web-scratch"]);
});

test("a deleted claim keeps its finalizer while a running pod uses it, and loses it once the pod is gone", async (t) => {
  const client = new FakeClient();
  client.seed(PERSISTENTVOLUMECLAIMS, claim("used", { deleting: true }), claim("free", { deleting: true }));
  client.seed(PODS, pod("user", "used"), pod("done", "free", { phase: "Succeeded" }));
  t.after(await start(client));
  await waitFor(() => finalizersOf(client, "free").length === 0, { message: "free claim released" });
  assert.deepEqual(finalizersOf(client, "used"), [PVC_F]);
  await client.delete(PODS, "ns", "user");
  await waitFor(() => finalizersOf(client, "used").length === 0, { message: "used claim released" });
});

test("a claim without the finalizer gets it; a pod terminating frees its claim", async (t) => {
  const client = new FakeClient();
  client.seed(
    PERSISTENTVOLUMECLAIMS,
    claim("old", { finalizers: ["example.com/other"] }),
    claim("busy", { deleting: true }),
  );
  client.seed(PODS, pod("runner", "busy"));
  t.after(await start(client));
  await waitFor(() => finalizersOf(client, "old").includes(PVC_F), { message: "finalizer added" });
  assert.deepEqual(finalizersOf(client, "old"), ["example.com/other", PVC_F]);
  const p = client.object<Pod>(PODS, "ns", "runner") as Pod;
  await client.update(PODS, "ns", { ...p, status: { phase: "Failed" } });
  await waitFor(() => finalizersOf(client, "busy").length === 0, { message: "claim of a failed pod released" });
});

test("a deleted volume keeps its finalizer while Bound, and loses it once it is not", async (t) => {
  const client = new FakeClient();
  const volume = (
    name: string,
    phase: string,
    o: { deleting?: boolean; finalizers?: string[] } = {},
  ): PersistentVolume => ({
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: {
      name,
      finalizers: o.finalizers ?? [PV_F],
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/x" } },
    status: { phase },
  });
  client.seed(
    PERSISTENTVOLUMES,
    volume("bound", "Bound", { deleting: true }),
    volume("released", "Released", { deleting: true }),
    volume("legacy", "Available", { finalizers: [] }),
  );
  t.after(await start(client));
  const fin = (name: string) =>
    client.object<PersistentVolume>(PERSISTENTVOLUMES, undefined, name)?.metadata.finalizers ?? [];
  await waitFor(() => fin("released").length === 0 && fin("legacy").includes(PV_F), { message: "volumes synced" });
  assert.deepEqual(fin("bound"), [PV_F]);
  const b = client.object<PersistentVolume>(PERSISTENTVOLUMES, undefined, "bound") as PersistentVolume;
  await client.update(PERSISTENTVOLUMES, undefined, { ...b, status: { phase: "Released" } });
  await waitFor(() => fin("bound").length === 0, { message: "bound volume released" });
});
