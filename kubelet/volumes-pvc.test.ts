// VolumeManager's persistentVolumeClaim volumes on a real directory tree (no Docker): a bound
// claim is its PV's path (hostPath created as its type says, local must exist), readOnly is
// kept per pod, and a claim that is not bound, or a PV not bound back to it, fails with
// upstream's "unmounted volumes=..." wording.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { PersistentVolume, PersistentVolumeClaim, Pod } from "#pkg/api/types/index.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { TokenManager } from "./token-manager.js";
import { PodVolumesError, VolumeError, VolumeManager } from "./volumes.js";

const root = mkdtempSync(join(tmpdir(), "kl-pvc-"));
after(() => rmSync(root, { recursive: true, force: true }));

const claims = new Map<string, PersistentVolumeClaim>();
const pvs = new Map<string, PersistentVolume>();
const vm = new VolumeManager({
  rootDir: join(root, "kubelet"),
  log: silentLogger,
  configMap: async () => undefined,
  secret: async () => undefined,
  claim: async (ns, name) => claims.get(`${ns}/${name}`),
  persistentVolume: async (name) => pvs.get(name),
  tokens: new TokenManager({ request: () => Promise.reject(new Error("no tokens")), log: silentLogger }),
});

function bind(claimName: string, pv: PersistentVolume): void {
  const pvName = pv.metadata.name ?? "";
  claims.set(`default/${claimName}`, {
    metadata: { name: claimName, namespace: "default", uid: `uid-${claimName}` },
    spec: { volumeName: pvName },
    status: { phase: "Bound" },
  });
  pvs.set(pvName, {
    ...pv,
    spec: { ...pv.spec, claimRef: { namespace: "default", name: claimName, uid: `uid-${claimName}` } },
  });
}

function pod(uid: string, volumes: { name: string; claim: string; readOnly?: boolean }[]): Pod {
  return {
    metadata: { name: uid, namespace: "default", uid },
    spec: {
      containers: [{ name: "c", image: "busybox" }],
      volumes: volumes.map((v) => ({
        name: v.name,
        persistentVolumeClaim: { claimName: v.claim, ...(v.readOnly ? { readOnly: true } : {}) },
      })),
    },
  };
}

describe("VolumeManager: persistentVolumeClaim volumes", () => {
  test("a bound claim mounts its PV's hostPath (DirectoryOrCreate creates it) or local path; readOnly is kept", async () => {
    const hostDir = join(root, "pvs", "data");
    bind("data", { metadata: { name: "pv-data" }, spec: { hostPath: { path: hostDir, type: "DirectoryOrCreate" } } });
    const localDir = join(root, "local-disk");
    mkdirSync(localDir);
    bind("logs", { metadata: { name: "pv-logs" }, spec: { local: { path: localDir } } });
    const mounted = await vm.setup(
      pod("p1", [
        { name: "data", claim: "data" },
        { name: "logs", claim: "logs", readOnly: true },
      ]),
      "",
      "",
    );
    assert.equal(mounted.get("data"), hostDir);
    assert.ok(existsSync(hostDir));
    assert.equal(mounted.get("logs"), localDir);
    assert.deepEqual([...vm.readOnly("p1")], ["logs"]);
    await vm.cleanup("p1");
    assert.ok(existsSync(hostDir), "the PV's directory outlives the pod");
    assert.deepEqual([...vm.readOnly("p1")], []);
  });

  test("a claim that is not bound, or missing, fails with every such volume named", async () => {
    claims.set("default/pending", {
      metadata: { name: "pending", namespace: "default", uid: "uid-pending" },
      spec: {},
      status: { phase: "Pending" },
    });
    await assert.rejects(
      vm.setup(
        pod("p2", [
          { name: "b", claim: "pending" },
          { name: "a", claim: "missing" },
        ]),
        "",
        "",
      ),
      (err: unknown) =>
        err instanceof PodVolumesError &&
        err.message ===
          "unmounted volumes=[a b], unattached volumes=[], failed to process volumes=[a b]: " +
            "error processing PVC default/pending: PVC is not bound; " +
            'error processing PVC default/missing: failed to fetch PVC from API server: persistentvolumeclaims "missing" not found',
    );
  });

  test("a PV not bound back to the claim, a local path that is not there, a source the kubelet cannot mount", async () => {
    bind("other", { metadata: { name: "pv-other" }, spec: { hostPath: { path: join(root, "x") } } });
    const pv = pvs.get("pv-other") as PersistentVolume;
    pvs.set("pv-other", {
      ...pv,
      spec: { ...pv.spec, claimRef: { namespace: "default", name: "other", uid: "someone-else" } },
    });
    await assert.rejects(
      vm.setup(pod("p3", [{ name: "v", claim: "other" }]), "", ""),
      /found PV object pv-other but its pv.Spec.ClaimRef.UID someone-else does not point to claim.UID uid-other/,
    );
    bind("gone", { metadata: { name: "pv-gone" }, spec: { local: { path: join(root, "no-such-dir") } } });
    await assert.rejects(
      vm.setup(pod("p4", [{ name: "v", claim: "gone" }]), "", ""),
      (err: unknown) =>
        err instanceof VolumeError && !(err instanceof PodVolumesError) && /does not exist/.test(String(err)),
    );
    bind("nfs", { metadata: { name: "pv-nfs" }, spec: { nfs: { server: "s", path: "/e" } } });
    await assert.rejects(vm.setup(pod("p5", [{ name: "v", claim: "nfs" }]), "", ""), /cannot mount/);
  });
});
