// persistentVolumeClaim volumes on real Docker (issue 10): two kubelets, the scheduler with its
// VolumeBinding plugin, each component under its own identity (the kubelets read claims and PVs
// through the Node authorizer). A static hostPath PV with node affinity to node-2, applied with
// the real kubectl and bound to its claim, steers its pod to node-2, which writes into it
// (the file is on the host, under the PV's path; a subPath mount writes into a subdirectory);
// a pod mounting the claim readOnly reads the file and cannot write. A pod whose claim is not
// bound waits with upstream's FailedMount event and starts once a matching PV appears and the
// claim is bound. No PV binder runs here: the test does the binder's part (the PV's and the
// claim's binding), the dynamic-provisioning e2e with the controller-manager's binder is
// separate.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EVENTS, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, PODS } from "#pkg/api/resources.js";
import {
  ANN_BIND_COMPLETED,
  type Event,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
} from "#pkg/api/types/index.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { containerStatus, execIn, waitPod } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";

function podUsing(
  name: string,
  claim: string,
  o: { readOnly?: boolean; nodeName?: string; script?: string } = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "c",
          image: BUSYBOX_IMAGE,
          imagePullPolicy: "IfNotPresent",
          command: ["sh", "-c", `${o.script ?? "true"}; exec sleep 3600`],
          volumeMounts: [
            { name: "data", mountPath: "/data" },
            ...(o.readOnly ? [] : [{ name: "data", mountPath: "/sub", subPath: "sub" }]),
          ],
        },
      ],
      volumes: [
        { name: "data", persistentVolumeClaim: { claimName: claim, ...(o.readOnly ? { readOnly: true } : {}) } },
      ],
    },
  };
}

describe("persistentVolumeClaim volumes (real Docker, two kubelets, the scheduler's VolumeBinding)", () => {
  let c: TestCluster;
  let kubectl: Kubectl;
  let dir: string;

  before(async () => {
    c = await startCluster();
    kubectl = kubectlFor(c.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), "kubeling-pv-"));
  });

  after(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const running = (name: string) =>
    waitPod(c.client, NS, name, (p) => containerStatus(p, "c")?.state?.running !== undefined, {
      timeoutMs: 60_000,
      message: `pod ${name} running`,
    });

  const containerOf = (p: Pod) => (containerStatus(p, "c")?.containerID ?? "").replace("docker://", "");

  /** The PV binder's part: both sides of the binding and their phases. */
  async function bindClaim(claimName: string, pvName: string): Promise<void> {
    const pvc = await c.client.get<PersistentVolumeClaim>(PERSISTENTVOLUMECLAIMS, NS, claimName);
    let pv = await c.client.get<PersistentVolume>(PERSISTENTVOLUMES, undefined, pvName);
    if (!pv.spec?.claimRef?.uid) {
      pv.spec = {
        ...pv.spec,
        claimRef: { kind: "PersistentVolumeClaim", namespace: NS, name: claimName, uid: pvc.metadata.uid ?? "" },
      };
      pv = await c.client.update(PERSISTENTVOLUMES, undefined, pv);
    }
    await c.client.update(
      PERSISTENTVOLUMES,
      undefined,
      { ...pv, status: { phase: "Bound" } },
      { subresource: "status" },
    );
    pvc.spec = { ...pvc.spec, volumeName: pvName };
    pvc.metadata.annotations = { ...pvc.metadata.annotations, [ANN_BIND_COMPLETED]: "yes" };
    const updated = await c.client.update(PERSISTENTVOLUMECLAIMS, NS, pvc);
    await c.client.update(
      PERSISTENTVOLUMECLAIMS,
      NS,
      { ...updated, status: { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } },
      { subresource: "status" },
    );
  }

  const pvYaml = (name: string, node: string, claim?: string) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
spec:
  capacity:
    storage: 1Gi
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  hostPath:
    path: ${join(dir, name)}
    type: DirectoryOrCreate
${claim ? `  claimRef:\n    namespace: ${NS}\n    name: ${claim}\n` : ""}  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - key: kubernetes.io/hostname
          operator: In
          values: [${node}]
`;

  const claimYaml = (name: string, volumeName?: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources:
    requests:
      storage: 1Gi
${volumeName ? `  volumeName: ${volumeName}\n` : ""}`;

  test("a static hostPath PV bound to a claim: its node, written by one pod (subPath too), read but not written through a readOnly mount", async () => {
    assert.match(
      await kubectl.ok(["apply", "-f", "-"], {
        input: `${pvYaml("pv-data", "node-2", "data")}---\n${claimYaml("data", "pv-data")}`,
      }),
      /persistentvolume\/pv-data created\npersistentvolumeclaim\/data created/,
    );
    await bindClaim("data", "pv-data");
    await c.client.create(
      PODS,
      NS,
      podUsing("writer", "data", { script: "echo hello > /data/hello && echo sub > /sub/f" }),
    );
    const writer = await running("writer");
    assert.equal(writer.spec?.nodeName, "node-2", "the PV's node affinity steers the pod");
    const hostFile = join(dir, "pv-data", "hello");
    await waitFor(() => existsSync(hostFile) && existsSync(join(dir, "pv-data", "sub", "f")), {
      message: "the pod's files in the PV's host directory",
    });
    assert.equal(readFileSync(hostFile, "utf8"), "hello\n");
    assert.equal(readFileSync(join(dir, "pv-data", "sub", "f"), "utf8"), "sub\n");

    await c.client.create(PODS, NS, podUsing("reader", "data", { readOnly: true }));
    const reader = await running("reader");
    assert.equal(reader.spec?.nodeName, "node-2");
    const cat = await execIn(containerOf(reader), ["cat", "/data/hello"]);
    assert.deepEqual(cat, { code: 0, out: "hello\n" });
    const touch = await execIn(containerOf(reader), ["touch", "/data/nope"]);
    assert.notEqual(touch.code, 0);
    assert.match(touch.out, /Read-only file system/);
    assert.equal(existsSync(join(dir, "pv-data", "nope")), false);
    // The writer's mount stays writable.
    assert.equal((await execIn(containerOf(writer), ["touch", "/data/yes"])).code, 0);
  });

  test("a pod whose claim is not bound waits with FailedMount, then starts once a matching PV appears and the claim is bound", async () => {
    await kubectl.ok(["apply", "-f", "-"], { input: claimYaml("later") });
    // Given a node directly: the scheduler would hold a pod with an unbound claim.
    await c.client.create(
      PODS,
      NS,
      podUsing("patient", "later", { nodeName: "node-1", script: "echo late > /data/f" }),
    );
    const ev = await waitFor(
      async () =>
        (await c.client.list<Event>(EVENTS, NS)).items.find(
          (e) => e.involvedObject?.name === "patient" && e.reason === "FailedMount",
        ),
      { timeoutMs: 60_000, message: "a FailedMount event for patient" },
    );
    assert.equal(ev.type, "Warning");
    assert.equal(
      ev.message,
      "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/later: PVC is not bound",
    );
    const waiting = await c.client.get<Pod>(PODS, NS, "patient");
    assert.equal(waiting.status?.phase, "Pending");
    assert.equal(containerStatus(waiting, "c")?.state?.running, undefined);

    await kubectl.ok(["apply", "-f", "-"], { input: pvYaml("pv-later", "node-1") });
    await bindClaim("later", "pv-later");
    const started = Date.now();
    await running("patient");
    // The kubelet's retry backoff is capped at 8 s.
    assert.ok(Date.now() - started < 30_000);
    await waitFor(() => existsSync(join(dir, "pv-later", "f")), { message: "the pod's file in pv-later" });
    assert.equal(readFileSync(join(dir, "pv-later", "f"), "utf8"), "late\n");
  });
});
