// kubeling-proxy (issue 9): requests per second and latency through a ClusterIP and a NodePort
// (127.0.0.1) in each proxy mode, next to the same requests sent straight to the pod's IP in the
// same run, and the time from a pod turning Ready to receiving traffic. A cluster of its own (one
// kubelet, a service slot), one backend pod (Node's http server on the node image), the slices
// written by the bench itself (as the EndpointSlice controller would). Every request is a new
// connection (no keep-alive), the case where the proxy's per-connection work shows.
//
// `node --conditions=source --import tsx bench/proxy.ts` runs it alone; bench/main.ts calls
// runProxyBench({ etcd }).

import http from "node:http";
import { performance } from "node:perf_hooks";
import { ENDPOINTSLICES, PODS, SERVICES } from "#pkg/api/resources.js";
import { type EndpointSlice, LABEL_SERVICE_NAME } from "#pkg/api/types/discovery.js";
import type { Pod, Service } from "#pkg/api/types/index.js";
import { KUBE_PROXY_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../test/harness/cluster.js";
import { type ProxyMode, startProxy } from "../test/harness/proxy.js";
import { waitFor } from "../test/harness/wait.js";
import { type BenchRow, closedLoop, row, summarize } from "./stats.js";

const NS = "default";
const NODE_IMAGE = "kubeling.local/node:20";
const SERVER = "require('http').createServer((q, s) => s.end(require('os').hostname())).listen(8080)";

export interface ProxyBenchOptions {
  etcd?: string;
  durationMs?: number;
  concurrency?: number;
  log?: (msg: string) => void;
}

const agentless = { agent: false as const };

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: "/", ...agentless, timeout: 5000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve(body));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

function backend(name: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { app: "bench" } },
    spec: {
      nodeName: "node-1",
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: "web",
          image: NODE_IMAGE,
          imagePullPolicy: "IfNotPresent",
          command: ["node", "-e", SERVER],
          readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
        },
      ],
    },
  };
}

const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

async function publish(c: TestCluster, pods: Pod[]): Promise<void> {
  const slice: EndpointSlice = {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "bench-x", namespace: NS, labels: { [LABEL_SERVICE_NAME]: "bench" } },
    addressType: "IPv4",
    endpoints: pods.map((p) => ({
      addresses: [p.status?.podIP as string],
      conditions: { ready: true },
      nodeName: "node-1",
    })),
    ports: [{ name: "http", port: 8080, protocol: "TCP" }],
  };
  const cur = await c.client.get<EndpointSlice>(ENDPOINTSLICES, NS, "bench-x").catch(() => undefined);
  if (cur)
    await c.client.update(ENDPOINTSLICES, NS, {
      ...slice,
      metadata: { ...slice.metadata, resourceVersion: cur.metadata.resourceVersion },
    });
  else await c.client.create(ENDPOINTSLICES, NS, slice);
}

async function startPod(c: TestCluster, name: string): Promise<{ pod: Pod; readyAtMs: number }> {
  await c.client.create(PODS, NS, backend(name));
  let readyAtMs = 0;
  const pod = await waitFor(
    async () => {
      const p = await c.client.get<Pod>(PODS, NS, name);
      if (!ready(p) || !p.status?.podIP) return undefined;
      readyAtMs = performance.now();
      return p;
    },
    { timeoutMs: 60_000, intervalMs: 20, message: `pod ${name} Ready` },
  );
  return { pod, readyAtMs };
}

export async function runProxyBench(o: ProxyBenchOptions = {}): Promise<BenchRow[]> {
  const log = o.log ?? (() => undefined);
  const durationMs = o.durationMs ?? 3000;
  const concurrency = o.concurrency ?? 8;
  const c = await startCluster({
    serviceSlot: true,
    nodes: ["node-1"],
    ...(o.etcd ? { apiserver: { etcd: o.etcd } } : {}),
  });
  const rows: BenchRow[] = [];
  try {
    const { pod } = await startPod(c, "bench-0");
    const podIP = pod.status?.podIP as string;
    await publish(c, [pod]);
    const svc = await c.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "bench", namespace: NS },
      spec: { type: "NodePort", selector: { app: "bench" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    const clusterIP = svc.spec?.clusterIP as string;
    const nodePort = svc.spec?.ports?.[0]?.nodePort as number;
    const kubeconfigPath = await c.api.kubeconfigFor({ name: KUBE_PROXY_USER });
    const slot = c.serviceSlot;
    if (!slot) throw new Error("no service slot");

    let extra = 0;
    for (const mode of ["iptables", "userspace"] as ProxyMode[]) {
      log(`proxy: ${mode} mode`);
      const proxy = await startProxy({
        kubeconfigPath,
        clusterName: c.clusterName,
        mode,
        serviceCIDR: slot.serviceCIDR,
        clusterCIDR: c.podNetwork.subnet,
      });
      try {
        await waitFor(
          async () => (await get(clusterIP, 80)) === "bench-0" && (await get("127.0.0.1", nodePort)) === "bench-0",
          {
            timeoutMs: 20_000,
            message: `${mode}: the service answers`,
          },
        );
        const load = (host: string, port: number) =>
          closedLoop({ concurrency, durationMs, warmupOps: 50 }, () => get(host, port));
        // Direct first, then through the proxy, then direct again: the best direct run is the baseline.
        const direct1 = await load(podIP, 8080);
        const viaClusterIP = await load(clusterIP, 80);
        const viaNodePort = await load("127.0.0.1", nodePort);
        const direct2 = await load(podIP, 8080);
        const direct = direct1.opsPerSec >= direct2.opsPerSec ? direct1 : direct2;
        const note = (r: typeof direct) =>
          `${Math.round((r.opsPerSec / direct.opsPerSec) * 100)}% of direct; +${(r.p50Ms - direct.p50Ms).toFixed(2)} ms p50, +${(r.p99Ms - direct.p99Ms).toFixed(2)} ms p99`;
        const goal = mode === "iptables" ? "goal ≥ 90% of direct" : "goal ≥ 50% of direct";
        rows.push(
          row("proxy", `${mode}: straight to the pod IP`, direct, { concurrency, note: "new connection per request" }),
        );
        rows.push(
          row("proxy", `${mode}: through the ClusterIP`, viaClusterIP, {
            concurrency,
            note: note(viaClusterIP),
            reference: goal,
          }),
        );
        rows.push(
          row("proxy", `${mode}: through 127.0.0.1:<nodePort>`, viaNodePort, {
            concurrency,
            note: note(viaNodePort),
            reference: goal,
          }),
        );

        // A pod turning Ready → its first answer through the ClusterIP (the slice written as soon
        // as Ready is seen, as the controller would; its own latency is not in this figure).
        const samples: number[] = [];
        for (let i = 0; i < 3; i++) {
          const name = `bench-extra-${extra++}`;
          const { pod: p, readyAtMs } = await startPod(c, name);
          await publish(c, [pod, p]);
          await waitFor(
            async () => {
              for (let k = 0; k < 4; k++) if ((await get(clusterIP, 80)) === name) return true;
              return false;
            },
            { timeoutMs: 10_000, intervalMs: 5, message: `${name} gets traffic` },
          );
          samples.push(performance.now() - readyAtMs);
          await publish(c, [pod]);
          await c.client.delete(PODS, NS, name);
        }
        rows.push(
          row("proxy", `${mode}: pod Ready → first request through the ClusterIP`, summarize(samples), {
            note: "Ready seen by polling (20 ms); slice written by the bench",
          }),
        );
      } finally {
        await proxy.stop();
      }
    }
  } finally {
    await c.stop();
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runProxyBench({ log: (m) => process.stderr.write(`[bench] ${m}\n`) });
  for (const r of rows) console.log(JSON.stringify(r));
}
