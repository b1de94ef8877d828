// A node failure on real Docker with two kubelets, the scheduler and kubeling-controller-manager
// as processes (short timeouts: kubelet Leases of 4 s renewed every second, a 6 s
// --node-monitor-grace-period): node-1's kubelet is killed (SIGKILL: its containers keep running,
// as after a crash), node-1 goes Ready=Unknown and is tainted unreachable, the ReplicaSet's pods
// there (tolerating that for 2 s) are evicted and recreated on node-2. node-1's kubelet started
// again removes the stale containers of the evicted pods, posts Ready and node-1 is untainted.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NODES, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { ReplicaSet } from "#pkg/api/types/apps.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { clusterContainers, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { activePods, replicaSet as newReplicaSet } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const UNREACHABLE = "node.kubernetes.io/unreachable";
/** Kubelet flags: a 4 s Lease renewed every second, status every 2 s. */
const KUBELET_ARGS = ["--node-lease-duration-seconds=4", "--node-status-update-frequency=2s"];
// Containers start slowly on a 2-core box shared with other test runs.
const SLOW_MS = 90_000;

const replicaSet = (name: string, replicas: number): ReplicaSet =>
  newReplicaSet(name, replicas, {
    container: "main",
    image: BUSYBOX_IMAGE,
    imagePullPolicy: "IfNotPresent",
    terminationGracePeriodSeconds: 1,
    tolerations: [{ key: UNREACHABLE, operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 }],
  });

const readyOf = (n: Node) => n.status?.conditions?.find((c) => c.type === "Ready")?.status;
const unreachableTaints = (n: Node) => (n.spec?.taints ?? []).filter((t) => t.key === UNREACHABLE);
const running = (p: Pod) =>
  p.status?.phase === "Running" && p.status.containerStatuses?.every((s) => s.state?.running) === true;

describe("node failure: a killed kubelet's pods move to the other node; restarted, it cleans up", () => {
  let cluster: TestCluster | undefined;
  let cm: TestControllerManager | undefined;
  let restarted: TestKubelet | undefined;
  const logs = () =>
    [cluster?.logs() ?? "", `--- controller-manager ---\n${cm?.proc.output().slice(-6000) ?? ""}`].join("\n");

  before(async () => {
    cluster = await startCluster({
      nodes: [
        { name: "node-1", extraArgs: KUBELET_ARGS },
        { name: "node-2", extraArgs: KUBELET_ARGS },
      ],
    });
    cm = await startControllerManager({
      kubeconfigPath: cluster.kubeconfigPath,
      extraArgs: [
        "--leader-elect=false",
        "--node-monitor-grace-period=6s",
        "--node-monitor-period=1s",
        "--controllers=replicaset,nodelifecycle,taint-eviction-controller,podgc",
      ],
    });
  });
  after(async () => {
    await restarted?.stop();
    await cm?.stop();
    await cluster?.stop();
  });

  test("stop node-1's kubelet: Unknown, tainted, pods recreated on node-2; start it: stale containers gone, untainted", async () => {
    const c = cluster as TestCluster;
    const client = c.client;
    const podsOf = () => activePods(client, "web");
    const setUnschedulable = async (name: string, unschedulable: boolean) => {
      for (let i = 0; ; i++) {
        const n = await client.get(NODES, undefined, name);
        try {
          await client.update(NODES, undefined, { ...n, spec: { ...n.spec, unschedulable } });
          return;
        } catch (err) {
          if (i > 5) throw err;
        }
      }
    };

    // Both replicas on node-1: node-2 cordoned while they are placed.
    await setUnschedulable("node-2", true);
    await client.create(REPLICASETS, NS, replicaSet("web", 2));
    const first = await waitFor(
      async () => {
        const pods = await podsOf();
        return pods.length === 2 && pods.every((p) => p.spec?.nodeName === "node-1" && running(p)) ? pods : undefined;
      },
      { timeoutMs: SLOW_MS, message: `two web pods running on node-1\n${logs()}` },
    );
    const firstUids = new Set(first.map((p) => p.metadata.uid));
    await setUnschedulable("node-2", false);
    const staleContainers = async () =>
      (await clusterContainers(c.clusterName, "node-1")).filter((ct) =>
        firstUids.has(ct.Labels["io.kubernetes.pod.uid"]),
      );
    assert.ok((await staleContainers()).length >= 4, "a sandbox and an app container per pod on node-1");

    // The kubelet dies; its containers keep running.
    const kubelet1 = c.kubelets.find((k) => k.nodeName === "node-1") as TestKubelet;
    await kubelet1.kill();
    const killedAt = Date.now();
    const down = await waitFor(
      async () => {
        const n = await client.get(NODES, undefined, "node-1");
        return readyOf(n) === "Unknown" && unreachableTaints(n).some((t) => t.effect === "NoExecute") ? n : undefined;
      },
      { timeoutMs: 60_000, message: `node-1 Unknown and tainted unreachable\n${logs()}` },
    );
    const taintedAt = Date.parse(unreachableTaints(down).find((t) => t.effect === "NoExecute")?.timeAdded ?? "");
    assert.equal(readyOf(await client.get(NODES, undefined, "node-2")), "True");

    const moved = await waitFor(
      async () => {
        const pods = await podsOf();
        return pods.length === 2 && pods.every((p) => p.spec?.nodeName === "node-2" && running(p)) ? pods : undefined;
      },
      { timeoutMs: SLOW_MS, message: `two web pods running on node-2\n${logs()}` },
    );
    const replacedAt = Date.now();
    assert.ok(
      moved.every((p) => !firstUids.has(p.metadata.uid)),
      "new pods, not the old ones",
    );
    // The evicted pods stay Terminating (no kubelet to finish them), marked by the taint manager.
    for (const uid of firstUids) {
      const old = (await client.list(PODS, NS, { labelSelector: "app=web" })).items.find((p) => p.metadata.uid === uid);
      if (!old) continue;
      assert.ok(old.metadata.deletionTimestamp, "evicted");
      assert.equal(
        old.status?.conditions?.find((x) => x.type === "DisruptionTarget")?.reason,
        "DeletionByTaintManager",
      );
    }
    assert.ok((await staleContainers()).length > 0, "the dead kubelet's containers are still there");
    process.stderr.write(
      `[node-failure] kubelet killed → tainted ${((taintedAt - killedAt) / 1000).toFixed(1)} s (timeAdded, 1 s precision); ` +
        `tainted → 2 replacements running ${((replacedAt - taintedAt) / 1000).toFixed(1)} s\n`,
    );

    // The kubelet comes back: the evicted pods' containers go, node-1 is Ready and untainted.
    restarted = await startKubelet({
      kubeconfigPath: c.kubeconfigPath,
      pki: c.api.pki,
      nodeName: "node-1",
      clusterName: c.clusterName,
      extraArgs: KUBELET_ARGS,
    });
    await waitFor(async () => (await staleContainers()).length === 0, {
      timeoutMs: SLOW_MS,
      message: `stale containers on node-1 removed\n${restarted.output().slice(-4000)}`,
    });
    await waitFor(
      async () => {
        const n = await client.get(NODES, undefined, "node-1");
        return readyOf(n) === "True" && unreachableTaints(n).length === 0;
      },
      { timeoutMs: 60_000, message: `node-1 Ready and untainted\n${logs()}` },
    );
    await waitFor(
      async () => {
        const all = (await client.list(PODS, NS, { labelSelector: "app=web" })).items;
        return all.every((p) => !firstUids.has(p.metadata.uid));
      },
      { timeoutMs: 30_000, message: "the evicted pods' objects deleted by node-1's kubelet" },
    );
    const final = await podsOf();
    assert.equal(final.length, 2);
    assert.ok(final.every((p) => p.spec?.nodeName === "node-2"));
  });
});
