// persistentVolumeClaim volumes on real Docker (issue 10): two kubelets, the scheduler with its
// VolumeBinding plugin and kubeling-controller-manager's PV binder, each component under its own
// identity (the kubelets read claims and PVs through the Node authorizer). A static hostPath PV
// with node affinity to node-2, applied with the real kubectl with its claim and bound by the
// binder, steers its pod to node-2, which writes into it (the file is on the host, under the
// PV's path; a subPath mount writes into a subdirectory); a pod mounting the claim readOnly reads
// the file and cannot write. A claim with no matching PV stays Pending: a pod given a node waits
// with upstream's FailedMount event, a pod left to the scheduler with FailedScheduling; once a
// matching PV appears the binder binds the claim and both start on the PV's node. Dynamic
// provisioning (the local-path provisioner) has its own e2e.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EVENTS, PODS } from "#pkg/api/resources.js";
import type { Event, Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
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
  let cm: TestControllerManager | undefined;
  let kubectl: Kubectl;
  let dir: string;

  before(async () => {
    c = await startCluster();
    // Only the PV binder: the claims here are of no class (static PVs).
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      clientCAFile: c.api.pki.caCert,
      extraArgs: ["--leader-elect=false", "--controllers=persistentvolume-binder-controller"],
    });
    kubectl = kubectlFor(c.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), "kubeling-pv-"));
  });

  after(async () => {
    await cm?.stop();
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const running = (name: string) =>
    waitPod(c.client, NS, name, (p) => containerStatus(p, "c")?.state?.running !== undefined, {
      timeoutMs: 60_000,
      message: `pod ${name} running`,
    });

  const containerOf = (p: Pod) => (containerStatus(p, "c")?.containerID ?? "").replace("docker://", "");

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

  const eventFor = (name: string, reason: string) =>
    waitFor(
      async () =>
        (await c.client.list<Event>(EVENTS, NS)).items.find(
          (e) => e.involvedObject?.name === name && e.reason === reason,
        ),
      { timeoutMs: 60_000, message: `a ${reason} event for ${name}` },
    );

  test("a claim with no matching PV: its pods wait (FailedMount on the node, FailedScheduling in the scheduler), then start once a matching PV appears", async () => {
    await kubectl.ok(["apply", "-f", "-"], { input: claimYaml("later") });
    // Given a node directly, the pod reaches the kubelet, which waits for the claim.
    await c.client.create(
      PODS,
      NS,
      podUsing("patient", "later", { nodeName: "node-1", script: "echo late > /data/f" }),
    );
    // Left to the scheduler, the pod is not bound while its claim is not.
    await c.client.create(PODS, NS, podUsing("held", "later", { readOnly: true }));
    const ev = await eventFor("patient", "FailedMount");
    assert.equal(ev.type, "Warning");
    assert.equal(
      ev.message,
      "Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/later: PVC is not bound",
    );
    const waiting = await c.client.get<Pod>(PODS, NS, "patient");
    assert.equal(waiting.status?.phase, "Pending");
    assert.equal(containerStatus(waiting, "c")?.state?.running, undefined);

    assert.equal(
      (await eventFor("held", "FailedScheduling")).message,
      "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    assert.equal((await c.client.get<Pod>(PODS, NS, "held")).spec?.nodeName, undefined);

    // A matching PV appears; the binder binds the claim to it.
    const started = Date.now();
    await kubectl.ok(["apply", "-f", "-"], { input: pvYaml("pv-later", "node-1") });
    await running("patient");
    // The binder syncs on the PV's event; the kubelet's retry backoff is capped at 8 s.
    assert.ok(Date.now() - started < 30_000, `patient started ${Date.now() - started} ms after the PV`);
    const held = await running("held");
    assert.equal(held.spec?.nodeName, "node-1", "the bound claim's PV steers the pod");
    await waitFor(() => existsSync(join(dir, "pv-later", "f")), { message: "the pod's file in pv-later" });
    assert.equal(readFileSync(join(dir, "pv-later", "f"), "utf8"), "late\n");
  });
});
