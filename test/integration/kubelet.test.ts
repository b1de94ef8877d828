// The kubelet against a real API server (real etcd) and the real Docker engine: pods with
// spec.nodeName set (no scheduler needed) become containers; restarts, backoffs, probes,
// deletion, kubelet restarts and two kubelets sharing one engine.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { LEASES, NODES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import {
  cleanupCluster,
  clusterContainers,
  containerStatus as cs,
  docker,
  execIn,
  startKubelet,
  type TestKubelet,
  waitPodGone,
  waitPod as waitPodUntil,
} from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

function podSpec(
  name: string,
  node: string,
  spec: Partial<NonNullable<Pod["spec"]>>,
  meta: Partial<Pod["metadata"]> = {},
): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...meta },
    spec: { nodeName: node, terminationGracePeriodSeconds: 5, containers: [], ...spec },
  };
}

describe("kubelet (real API server, real Docker)", () => {
  const cluster = `kl-it-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;
  let kubelet2: TestKubelet | undefined;

  const get = (name: string) => api.client.get<Pod>(PODS, "default", name);
  const waitPod = (name: string, ok: (p: Pod) => boolean, timeoutMs = 30_000, message?: string) =>
    waitPodUntil(api.client, "default", name, ok, { timeoutMs, message });

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
      extraArgs: ["--crashloop-backoff-base=1s", "--image-pull-backoff-base=1s", "--backoff-max=8s"],
    });
  });

  after(async () => {
    await kubelet?.stop();
    await kubelet2?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  test("registers its Node (Ready, addresses, capacity, kubelet port) and renews a Lease", async () => {
    const n = await waitFor(
      async () => {
        const node = await api.client.get<import("#pkg/api/types/index.js").Node>(NODES, undefined, "node-1");
        return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? node : undefined;
      },
      { timeoutMs: 15_000, message: "node-1 Ready" },
    );
    assert.equal(n.metadata.labels?.["kubernetes.io/hostname"], "node-1");
    assert.ok(n.metadata.labels?.["kubernetes.io/os"]);
    assert.deepEqual(n.status?.addresses?.find((a) => a.type === "InternalIP")?.address, "127.0.0.1");
    assert.equal(n.status?.daemonEndpoints?.kubeletEndpoint?.Port, kubelet.port);
    assert.equal(n.status?.capacity?.pods, "110");
    assert.match(n.status?.nodeInfo?.containerRuntimeVersion ?? "", /^docker:\/\//);
    assert.equal(n.status?.nodeInfo?.kubeletVersion, "v1.33.0-kubeling");
    const lease = await waitFor(() =>
      api.client.get<import("#pkg/api/types/index.js").Lease>(LEASES, "kube-node-lease", "node-1"),
    );
    assert.equal(lease.spec?.holderIdentity, "node-1");
    assert.equal(lease.spec?.leaseDurationSeconds, 40);
  });

  test("two containers share one IP: Running, Ready, localhost reachable, downward-API env", async () => {
    await api.client.create(
      PODS,
      "default",
      podSpec("web", "node-1", {
        containers: [
          {
            name: "httpd",
            image: BUSYBOX_IMAGE,
            command: [
              "sh",
              "-c",
              "mkdir -p /www && echo hello-$(POD_NAME) > /www/index.html && exec httpd -f -p 8080 -h /www",
            ],
            env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }],
          },
          {
            name: "client",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c", "echo ip=$MY_IP; sleep 3600"],
            env: [{ name: "MY_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }],
          },
        ],
      }),
    );
    const p = await waitPod(
      "web",
      (x) =>
        x.status?.phase === "Running" &&
        x.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true,
    );
    assert.match(p.status?.podIP ?? "", /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(p.status?.hostIP, "127.0.0.1");
    assert.ok(p.status?.startTime);
    for (const name of ["httpd", "client"]) {
      const s = cs(p, name);
      assert.equal(s?.ready, true);
      assert.equal(s?.started, true);
      assert.equal(s?.restartCount, 0);
      assert.match(s?.containerID ?? "", /^docker:\/\/[0-9a-f]{64}$/);
      assert.ok(s?.state?.running?.startedAt);
      assert.equal(s?.image, BUSYBOX_IMAGE);
      assert.ok(s?.imageID);
    }
    const clientId = (cs(p, "client")?.containerID ?? "").replace("docker://", "");
    const r = await waitFor(
      async () => {
        const res = await execIn(clientId, ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080"]);
        return res.out.includes("hello-web") ? res : undefined;
      },
      { timeoutMs: 10_000, message: "client reaches httpd on localhost" },
    );
    assert.ok(r.out.includes("200"));
    const ip = await execIn(clientId, ["sh", "-c", "ip -4 addr show eth0"]);
    assert.ok(ip.out.includes(p.status?.podIP ?? "none"), ip.out);
    const logs = await docker.getContainer(clientId).logs({ stdout: true, stderr: true });
    assert.ok(logs.toString("latin1").includes(`ip=${p.status?.podIP}`));
    // Docker objects carry the labels and dockershim names.
    const mine = await clusterContainers(cluster, "node-1");
    const names = mine.map((c) => c.Names[0]);
    assert.ok(names.includes(`/k8s_httpd_web_default_${p.metadata.uid}_0`), names.join(","));
    assert.ok(names.includes(`/k8s_POD_web_default_${p.metadata.uid}_0`));
    const httpd = mine.find((c) => c.Labels["io.kubernetes.container.name"] === "httpd");
    assert.equal(httpd?.Labels["io.kubernetes.pod.uid"], p.metadata.uid);
    assert.equal(httpd?.Labels["io.kubernetes.container.restartCount"], "0");
  });

  test("the kubelet serves /stats/summary (cgroup CPU and memory) and /metrics", async () => {
    // The kubelet's port wants credentials: the API server's admin token, reviewed by the API server.
    const creds = { token: api.token };
    const summary = JSON.parse((await kubelet.get("/stats/summary", creds)).body) as {
      node: { nodeName: string; memory: { workingSetBytes: number } };
      pods: {
        podRef: { name: string };
        containers: {
          name: string;
          cpu: { usageCoreNanoSeconds: number; usageNanoCores: number };
          memory: { workingSetBytes: number };
        }[];
      }[];
    };
    assert.equal(summary.node.nodeName, "node-1");
    assert.ok(summary.node.memory.workingSetBytes > 0);
    const web = summary.pods.find((p) => p.podRef.name === "web");
    assert.deepEqual(web?.containers.map((c) => c.name).sort(), ["client", "httpd"]);
    for (const c of web?.containers ?? []) {
      assert.ok(c.cpu.usageCoreNanoSeconds > 0, JSON.stringify(c));
      assert.ok(c.memory.workingSetBytes > 0, JSON.stringify(c));
      assert.ok(Number.isInteger(c.cpu.usageNanoCores));
    }
    const metrics = (await kubelet.get("/metrics", creds)).body;
    assert.match(metrics, /^kubelet_running_pods [1-9]\d*$/m);
    assert.match(metrics, /^kubelet_container_starts_total [1-9]\d*$/m);
  });

  test("docker kill of a container: restarted with restartCount 1", async () => {
    const p = await get("web");
    const id = (cs(p, "client")?.containerID ?? "").replace("docker://", "");
    await docker.getContainer(id).kill();
    const back = await waitPod(
      "web",
      (x) => cs(x, "client")?.restartCount === 1 && !!cs(x, "client")?.state?.running,
      20_000,
    );
    assert.equal(cs(back, "client")?.lastState?.terminated?.exitCode, 137);
    assert.notEqual(cs(back, "client")?.containerID, `docker://${id}`);
    assert.equal(cs(back, "httpd")?.restartCount, 0);
  });

  test("a container that exits at once goes into CrashLoopBackOff with growing delays", async () => {
    await api.client.create(
      PODS,
      "default",
      podSpec("crash", "node-1", {
        containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sh", "-c", "exit 3"] }],
      }),
    );
    const p = await waitPod("crash", (x) => cs(x, "c")?.state?.waiting?.reason === "CrashLoopBackOff", 30_000);
    assert.equal(cs(p, "c")?.lastState?.terminated?.exitCode, 3);
    assert.match(cs(p, "c")?.state?.waiting?.message ?? "", /back-off \d+s restarting failed container=c/);
    assert.equal(p.status?.phase, "Running");
    // Record when each restart's container started; the gaps must grow (1s, 2s, 4s, ...).
    const starts = new Map<number, number>();
    await waitFor(
      async () => {
        const mine = await clusterContainers(cluster, "node-1");
        for (const c of mine) {
          if (c.Labels["io.kubernetes.pod.name"] !== "crash" || c.Labels["io.kubernetes.container.name"] !== "c")
            continue;
          const n = Number(c.Labels["io.kubernetes.container.restartCount"]);
          if (!starts.has(n)) {
            const d = await docker.getContainer(c.Id).inspect();
            // A container seen between create and start has no start time yet (0001-01-01).
            const at = Date.parse(d.State.StartedAt);
            if (at > 0) starts.set(n, at);
          }
        }
        return [1, 2, 3].every((n) => starts.has(n));
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "three restarts" },
    );
    const gap1 = (starts.get(2) ?? 0) - (starts.get(1) ?? 0);
    const gap2 = (starts.get(3) ?? 0) - (starts.get(2) ?? 0);
    // Lower bounds only: a loaded machine can stretch a gap, never shorten a backoff.
    assert.ok(gap1 >= 900, `second restart waited the 1s backoff (gap ${gap1}ms)`);
    assert.ok(gap2 >= 1900, `third restart waited the doubled 2s backoff (gap ${gap2}ms)`);
    await api.client.delete(PODS, "default", "crash", { gracePeriodSeconds: 0 });
  });

  test("a missing image: ErrImagePull, then ImagePullBackOff", async () => {
    // Every status the kubelet writes is observed through a watch from before the pod exists, so
    // a reason shown only briefly (ErrImagePull) cannot fall between two polls.
    const from = (await api.client.list(PODS, "default")).metadata.resourceVersion;
    const abort = new AbortController();
    const seen = new Set<string>();
    const watching = (async () => {
      const opts = { fieldSelector: "metadata.name=noimg", ...(from ? { resourceVersion: from } : {}) };
      for await (const ev of api.client.watch<Pod>(PODS, "default", opts, abort.signal)) {
        const reason = cs(ev.object, "c")?.state?.waiting?.reason;
        if (reason) seen.add(reason);
      }
    })().catch(() => undefined);
    try {
      await api.client.create(
        PODS,
        "default",
        podSpec("noimg", "node-1", { containers: [{ name: "c", image: "kubeling.local/does-not-exist:1.0" }] }),
      );
      await waitFor(() => seen.has("ErrImagePull") && seen.has("ImagePullBackOff"), {
        timeoutMs: 30_000,
        message: "ErrImagePull and ImagePullBackOff in the pod's watched statuses",
      });
    } finally {
      abort.abort();
      await watching;
    }
    const p = await get("noimg");
    assert.equal(p.status?.phase, "Pending");
    await api.client.delete(PODS, "default", "noimg", { gracePeriodSeconds: 0 });
  });

  test("a failing liveness probe restarts the container; a failing readiness probe keeps the pod not Ready", async () => {
    await api.client.create(
      PODS,
      "default",
      podSpec("probes", "node-1", {
        containers: [
          {
            name: "live",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c", "touch /tmp/ok; sleep 2; rm /tmp/ok; sleep 3600"],
            livenessProbe: { exec: { command: ["cat", "/tmp/ok"] }, periodSeconds: 1, failureThreshold: 1 },
          },
          {
            name: "unready",
            image: BUSYBOX_IMAGE,
            command: ["sleep", "3600"],
            readinessProbe: { exec: { command: ["false"] }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const p = await waitPod("probes", (x) => (cs(x, "live")?.restartCount ?? 0) >= 1, 30_000, "liveness restart");
    assert.equal(cs(p, "live")?.lastState?.terminated !== undefined, true);
    const cur = await get("probes");
    assert.equal(cur.status?.phase, "Running");
    assert.equal(cs(cur, "unready")?.ready, false);
    assert.equal(cs(cur, "unready")?.restartCount, 0);
    const ready = cur.status?.conditions?.find((c) => c.type === "Ready");
    assert.equal(ready?.status, "False");
    assert.match(ready?.message ?? "", /unready/);
    await api.client.delete(PODS, "default", "probes", { gracePeriodSeconds: 0 });
  });

  test("init containers run in order before app containers; restartPolicy Never ends Succeeded", async () => {
    await api.client.create(
      PODS,
      "default",
      podSpec("job", "node-1", {
        restartPolicy: "Never",
        initContainers: [
          { name: "i1", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo one"] },
          { name: "i2", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo two"] },
        ],
        containers: [{ name: "main", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo done"] }],
      }),
    );
    const p = await waitPod("job", (x) => x.status?.phase === "Succeeded", 30_000);
    assert.equal(cs(p, "main")?.state?.terminated?.exitCode, 0);
    assert.equal(cs(p, "main")?.state?.terminated?.reason, "Completed");
    const init = p.status?.initContainerStatuses ?? [];
    assert.deepEqual(
      init.map((s) => s.state?.terminated?.exitCode),
      [0, 0],
    );
    const t1 = Date.parse(init[0]?.state?.terminated?.finishedAt ?? "");
    const t2 = Date.parse(init[1]?.state?.terminated?.startedAt ?? "");
    assert.ok(t2 >= t1, "i2 started after i1 finished");
    assert.equal(p.status?.conditions?.find((c) => c.type === "Initialized")?.status, "True");
  });

  test("a restarted kubelet adopts running containers and restarts none", async () => {
    const before = await get("web");
    const ids = before.status?.containerStatuses?.map((c) => c.containerID);
    const counts = before.status?.containerStatuses?.map((c) => c.restartCount);
    await kubelet.kill();
    kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
      extraArgs: ["--crashloop-backoff-base=1s", "--image-pull-backoff-base=1s", "--backoff-max=8s"],
    });
    // The new kubelet announces that it adopted web's running containers on its first sync of it.
    await waitFor(
      async () =>
        kubelet.output().includes('"pod":"default/web"') && /"msg":"adopted running containers"/.test(kubelet.output()),
      { timeoutMs: 20_000, message: "kubelet adopted pod web" },
    );
    const running = async () =>
      (await clusterContainers(cluster, "node-1"))
        .filter((c) => c.Labels["io.kubernetes.pod.name"] === "web" && c.State === "running")
        .map((c) => c.Id)
        .sort();
    const runningBefore = await running();
    // "Nothing restarts" is observed over three PLEG relists after adoption (each would wake the
    // pod on any container change), counted from the kubelet's own metrics.
    const relists = async () => {
      const text = (await kubelet.get("/metrics", { token: api.token })).body;
      return Number(/^kubelet_pleg_relists_total (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    const relistsBefore = await relists();
    await waitFor(async () => (await relists()) >= relistsBefore + 3, {
      timeoutMs: 30_000,
      message: "three PLEG relists after adoption",
    });
    assert.deepEqual(await running(), runningBefore);
    const after = await get("web");
    assert.deepEqual(
      after.status?.containerStatuses?.map((c) => c.containerID),
      ids,
    );
    assert.deepEqual(
      after.status?.containerStatuses?.map((c) => c.restartCount),
      counts,
    );
  });

  test("deleting a pod stops and removes its containers within the grace period, then the object goes", async () => {
    const p = await get("web");
    const uid = p.metadata.uid;
    const t0 = Date.now();
    await api.client.delete(PODS, "default", "web", { gracePeriodSeconds: 5 });
    await waitFor(
      async () => {
        const mine = await clusterContainers(cluster, "node-1");
        return !mine.some((c) => c.Labels["io.kubernetes.pod.uid"] === uid);
      },
      { timeoutMs: 15_000, message: "containers of web removed" },
    );
    // Grace is 5 s and every container stops on SIGTERM at once; the margin absorbs a loaded machine.
    assert.ok(Date.now() - t0 < 5000 + 5000, `removed in ${Date.now() - t0}ms`);
    await waitPodGone(api.client, "default", "web", 10_000);
  });

  test("containers of pods that no longer exist are removed (orphans)", async () => {
    // A labelled container of a pod the API server never had, on our node.
    const uid = randomUUID();
    const c = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ["sleep", "3600"],
      Labels: {
        "kubeling.io/cluster": cluster,
        "kubeling.io/node": "node-1",
        "io.kubernetes.pod.uid": uid,
        "io.kubernetes.pod.name": "ghost",
        "io.kubernetes.pod.namespace": "default",
        "io.kubernetes.container.name": "c",
        "io.kubernetes.container.restartCount": "0",
      },
      HostConfig: { Init: true },
    });
    await c.start();
    await waitFor(async () => !(await clusterContainers(cluster, "node-1")).some((x) => x.Id === c.id), {
      timeoutMs: 15_000,
      message: "orphan removed",
    });
  });

  test("two kubelets on one engine each run only their own pods", async () => {
    kubelet2 = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-2",
      clusterName: cluster,
    });
    await api.client.create(
      PODS,
      "default",
      podSpec("on2", "node-2", { containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "3600"] }] }),
    );
    await api.client.create(
      PODS,
      "default",
      podSpec("on1", "node-1", { containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "3600"] }] }),
    );
    await waitPod("on2", (x) => x.status?.phase === "Running");
    await waitPod("on1", (x) => x.status?.phase === "Running");
    const n1 = await clusterContainers(cluster, "node-1");
    const n2 = await clusterContainers(cluster, "node-2");
    assert.ok(n2.every((c) => c.Labels["io.kubernetes.pod.name"] === "on2"));
    assert.ok(n2.length === 2);
    assert.ok(!n1.some((c) => c.Labels["io.kubernetes.pod.name"] === "on2"));
    assert.ok(n1.some((c) => c.Labels["io.kubernetes.pod.name"] === "on1"));
  });
});
