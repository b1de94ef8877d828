// Storage object in-use protection end to end, against a real API server and etcd with the real
// kubeling-controller-manager under its own identity (RBAC) and the real kubectl: the admission
// plugin adds the finalizers, the pvc- and pv-protection controllers remove them once nothing
// uses the object. A claim a scheduled pod uses stays Terminating until the pod is gone; a
// volume stays while it is Bound. Every wait watches.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, type ResourceType } from "#pkg/api/resources.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { watchUntil } from "../harness/watch.js";

let srv: TestApiServer;
let cm: TestControllerManager;
let kc: Kubectl;

const claimYaml = (name: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: ${name}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  resources:
    requests:
      storage: 1Gi
`;
const podYaml = (name: string, claim: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  nodeName: node-1
  containers:
    - name: c
      image: kubeling.local/busybox:latest
      command: [sleep, "3600"]
      volumeMounts: [{name: data, mountPath: /data}]
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: ${claim}}
`;
const volumeYaml = (name: string) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: ${name}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/${name}}
`;

const gone = (r: ResourceType, ns: string | undefined, name: string) =>
  watchUntil(srv.client, r, ns, (objs) => objs.length === 0, { name, timeoutMs: 20_000, message: `${name} deleted` });

before(async () => {
  srv = await startApiServer();
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: ["--leader-elect=false", "--controllers=persistentvolumeclaim-protection-controller,pv-protection"],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await cm?.stop();
  await srv?.stop();
});

describe("storage object in-use protection", () => {
  test("a claim used by a pod stays Terminating until the pod is gone", async () => {
    await kc.ok(["apply", "-f", "-"], { input: claimYaml("data") });
    await kc.ok(["apply", "-f", "-"], { input: claimYaml("spare") });
    await kc.ok(["apply", "-f", "-"], { input: podYaml("user", "data") });
    const pvc = await srv.client.get(PERSISTENTVOLUMECLAIMS, "default", "data");
    assert.deepEqual(pvc.metadata.finalizers, ["kubernetes.io/pvc-protection"]);

    await kc.ok(["delete", "pvc", "data", "--wait=false"]);
    // An unused claim deleted after it goes at once; by then the used one has been looked at too.
    await kc.ok(["delete", "pvc", "spare", "--wait=false"]);
    await gone(PERSISTENTVOLUMECLAIMS, "default", "spare");
    const [still] = await watchUntil<PersistentVolumeClaim>(
      srv.client,
      PERSISTENTVOLUMECLAIMS,
      "default",
      (o) => o.length === 1 && o[0]?.metadata.deletionTimestamp !== undefined,
      { name: "data", message: "data being deleted" },
    );
    assert.deepEqual(still?.metadata.finalizers, ["kubernetes.io/pvc-protection"]);
    const table = (await kc.ok(["get", "pvc", "data"])).trim().split("\n");
    assert.match(table[1] ?? "", /^data\s+Terminating\s/);
    // kubectl and kubeling describe it alike: how long it has been Terminating, and who uses it.
    const described = await kc.ok(["describe", "pvc", "data"]);
    assert.match(described, /\nStatus:\s+Terminating \(lasts \d+s\)\n/);
    assert.match(described, /\nUsed By:\s+user\n/);
    const ours = await runCli(["--kubeconfig", srv.kubeconfigPath, "describe", "pvc", "data"]);
    assert.equal(ours.code, 0, ours.stderr);
    const ages = (out: string) => out.replace(/\d+s\)/, "AGE)").replace(/ {2,}/g, "  ");
    assert.equal(ages(ours.stdout), ages(described));

    // No kubelet runs here: the pod goes at once when forced.
    await kc.ok(["delete", "pod", "user", "--grace-period=0", "--force"]);
    await gone(PERSISTENTVOLUMECLAIMS, "default", "data");
    const r = await kc.run(["get", "pvc", "data"]);
    assert.match(r.stderr, /persistentvolumeclaims "data" not found/);
  });

  test("a volume stays while Bound and goes once it is not", async () => {
    await kc.ok(["apply", "-f", "-"], { input: `${volumeYaml("pv-bound")}---\n${volumeYaml("pv-free")}` });
    const pv = await srv.client.get(PERSISTENTVOLUMES, undefined, "pv-bound");
    assert.deepEqual(pv.metadata.finalizers, ["kubernetes.io/pv-protection"]);
    await kc.ok([
      "patch",
      "pv",
      "pv-bound",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Bound"}}',
    ]);
    await kc.ok(["delete", "pv", "pv-bound", "--wait=false"]);
    await kc.ok(["delete", "pv", "pv-free", "--wait=false"]);
    await gone(PERSISTENTVOLUMES, undefined, "pv-free");
    const bound = await srv.client.get(PERSISTENTVOLUMES, undefined, "pv-bound");
    assert.ok(bound.metadata.deletionTimestamp);
    assert.match((await kc.ok(["get", "pv", "pv-bound"])).split("\n")[1] ?? "", /\sTerminating\s/);
    await kc.ok([
      "patch",
      "pv",
      "pv-bound",
      "--subresource=status",
      "--type=merge",
      "-p",
      '{"status":{"phase":"Released"}}',
    ]);
    await gone(PERSISTENTVOLUMES, undefined, "pv-bound");
  });
});
