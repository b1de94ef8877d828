// The whole issue-3 path with real processes: API server, scheduler and two kubelets on real
// Docker. Pods are created WITHOUT spec.nodeName; the scheduler places them and the kubelets run
// them. node-1 (disk=ssd) is untainted; node-2 (disk=hdd) carries dedicated=special:NoSchedule,
// so pods without a toleration can only land on node-1.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EVENTS, PODS } from "#pkg/api/resources.js";
import type { Event, Pod, Toleration } from "#pkg/api/types/index.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { clusterContainers } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";
import { runCli } from "./cli-helpers.js";

const NS = "default";
const TOLERATE_SPECIAL: Toleration = { key: "dedicated", operator: "Equal", value: "special", effect: "NoSchedule" };
// Starting containers on a 2-core box shared with other test runs: be generous.
const RUNNING_MS = 90_000;

interface PodOpts {
  cpu?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
}

function podObject(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { app: "cluster-e2e" } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "main",
          image: BUSYBOX_IMAGE,
          imagePullPolicy: "IfNotPresent",
          command: ["sleep", "3600"],
          ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}),
        },
      ],
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    },
  };
}

describe("cluster: scheduler + two kubelets on Docker", () => {
  let c: TestCluster;
  const cacheDir = mkdtempSync(join(tmpdir(), "kubectl-cache-"));

  const get = (name: string) => c.client.get<Pod>(PODS, NS, name);
  const create = (name: string, o?: PodOpts) => c.client.create<Pod>(PODS, NS, podObject(name, o));

  /** Waits until the pod is Running with a pod IP; failure messages carry the pod and the process logs. */
  async function waitRunning(name: string): Promise<Pod> {
    try {
      return await waitFor(
        async () => {
          const p = await get(name);
          return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
        },
        { timeoutMs: RUNNING_MS, intervalMs: 200, message: `pod ${name} Running with a pod IP` },
      );
    } catch (err) {
      const p = await get(name).catch(() => undefined);
      throw new Error(`${(err as Error).message}\npod: ${JSON.stringify(p)}\n${c.logs()}`);
    }
  }

  async function events(name: string, reason: string): Promise<Event[]> {
    const list = await c.client.list<Event>(EVENTS, NS);
    return list.items.filter((e) => e.involvedObject?.name === name && e.reason === reason);
  }

  function waitEvent(name: string, reason: string): Promise<Event> {
    return waitFor(async () => (await events(name, reason))[0], {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: `${reason} event for pod ${name}`,
    });
  }

  const kubectl = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        "kubectl",
        [`--kubeconfig=${c.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args],
        { timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });

  before(async () => {
    c = await startCluster({
      nodes: [
        { name: "node-1", labels: { disk: "ssd" } },
        { name: "node-2", labels: { disk: "hdd" }, taints: ["dedicated=special:NoSchedule"] },
      ],
    });
  });

  after(async () => {
    await c?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test("a pod without nodeName is scheduled, runs with a pod IP, and has a Scheduled event", async () => {
    await create("plain");
    const p = await waitRunning("plain");
    assert.equal(p.spec?.nodeName, "node-1", "node-2 is tainted, so only node-1 fits");
    assert.match(p.status?.podIP ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(p.status?.hostIP, "127.0.0.1");
    const ev = await waitEvent("plain", "Scheduled");
    assert.equal(ev.type, "Normal");
    assert.equal(ev.message, "Successfully assigned default/plain to node-1");
    // The pod's containers are on Docker, labelled with its node.
    const containers = await clusterContainers(c.clusterName, "node-1");
    assert.ok(
      containers.some((x) => x.Labels["io.kubernetes.pod.name"] === "plain" && x.State === "running"),
      "a running container of pod plain labelled kubeling.io/node=node-1",
    );
  });

  test("a pod requesting more cpu than any node has stays Pending with FailedScheduling", async () => {
    // It tolerates node-2's taint, so both nodes fail on cpu alone.
    await create("huge", { cpu: "1000", tolerations: [TOLERATE_SPECIAL] });
    const ev = await waitEvent("huge", "FailedScheduling");
    assert.equal(ev.type, "Warning");
    assert.match(ev.message ?? "", /^0\/2 nodes are available: 2 Insufficient cpu\./);
    const p = await get("huge");
    assert.equal(p.spec?.nodeName, undefined);
    assert.equal(p.status?.phase, "Pending");
    const cond = p.status?.conditions?.find((x) => x.type === "PodScheduled");
    assert.equal(cond?.status, "False");
    assert.equal(cond?.reason, "Unschedulable");
    const mine = (await clusterContainers(c.clusterName)).filter((x) => x.Labels["io.kubernetes.pod.name"] === "huge");
    assert.deepEqual(mine, [], "no container for an unscheduled pod");
  });

  test("a nodeSelector steers a pod to the matching one of two kubelets", async () => {
    // Both tolerate the taint, so the selector alone decides.
    await create("to-hdd", { nodeSelector: { disk: "hdd" }, tolerations: [TOLERATE_SPECIAL] });
    await create("to-ssd", { nodeSelector: { disk: "ssd" }, tolerations: [TOLERATE_SPECIAL] });
    const [hdd, ssd] = await Promise.all([waitRunning("to-hdd"), waitRunning("to-ssd")]);
    assert.equal(hdd.spec?.nodeName, "node-2");
    assert.equal(ssd.spec?.nodeName, "node-1");
    // Each kubelet runs only its own pods' containers.
    const onNode2 = await clusterContainers(c.clusterName, "node-2");
    assert.ok(onNode2.some((x) => x.Labels["io.kubernetes.pod.name"] === "to-hdd"));
    assert.ok(!onNode2.some((x) => x.Labels["io.kubernetes.pod.name"] === "to-ssd"));
  });

  test("a taint keeps pods off node-2 and a toleration lets one on", async () => {
    // Without the taint, spreading would put some of these on the idle node-2.
    const names = ["spread-0", "spread-1", "spread-2"];
    for (const n of names) await create(n);
    // Selecting node-2 without tolerating its taint: nowhere to go.
    await create("hdd-no-toleration", { nodeSelector: { disk: "hdd" } });
    const ev = await waitEvent("hdd-no-toleration", "FailedScheduling");
    assert.match(
      ev.message ?? "",
      /^0\/2 nodes are available: 1 node\(s\) didn't match Pod's node affinity\/selector, 1 node\(s\) had untolerated taint \{dedicated: special\}\./,
    );
    await create("tolerant", { nodeSelector: { disk: "hdd" }, tolerations: [TOLERATE_SPECIAL] });
    const [tolerant, ...spread] = await Promise.all([waitRunning("tolerant"), ...names.map(waitRunning)]);
    assert.equal(tolerant.spec?.nodeName, "node-2");
    for (const p of spread) assert.equal(p.spec?.nodeName, "node-1", `${p.metadata.name} must avoid the tainted node`);
    assert.equal((await get("hdd-no-toleration")).spec?.nodeName, undefined);
  });

  test("kubectl apply -f of a Pod manifest reaches Running; get pods -o wide shows node and IP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeling-manifest-"));
    try {
      const file = join(dir, "pod.yaml");
      writeFileSync(
        file,
        `apiVersion: v1
kind: Pod
metadata:
  name: applied
  labels:
    app: applied
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: ${BUSYBOX_IMAGE}
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
    resources:
      requests:
        cpu: 50m
        memory: 16Mi
`,
      );
      const applied = await kubectl(["apply", "-f", file]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.equal(applied.stdout.trim(), "pod/applied created");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const p = await waitRunning("applied");
    const ip = p.status?.podIP ?? "";
    const node = p.spec?.nodeName ?? "";
    assert.equal(node, "node-1");

    const wide = await kubectl(["get", "pods", "applied", "-o", "wide"]);
    assert.equal(wide.code, 0, wide.stderr);
    const [header, line] = wide.stdout.trim().split("\n");
    assert.match(
      header ?? "",
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/,
    );
    const cols = (line ?? "").split(/\s+/);
    assert.deepEqual([cols[0], cols[1], cols[2], cols[5], cols[6]], ["applied", "1/1", "Running", ip, node]);

    // Our CLI prints the same columns from the same Table.
    const ours = await runCli(["--kubeconfig", c.kubeconfigPath, "get", "pods", "applied", "-o", "wide"]);
    assert.equal(ours.code, 0, ours.stderr);
    const oursCols = (ours.stdout.trim().split("\n")[1] ?? "").split(/\s+/);
    assert.deepEqual([oursCols[0], oursCols[2], oursCols[5], oursCols[6]], ["applied", "Running", ip, node]);

    const kubectlWait = await kubectl(["wait", "--for=condition=Ready", "pod/applied", "--timeout=60s"]);
    assert.equal(kubectlWait.code, 0, kubectlWait.stderr);
    assert.equal(kubectlWait.stdout.trim(), "pod/applied condition met");
  });
});
