// A whole kubeling cluster as real processes for e2e tests and benchmarks: the API server
// (harness apiserver.ts, or one the caller already runs), the scheduler (scheduler/main.ts) and
// N kubelets (harness kubelet.ts) on the real Docker engine under one unique --cluster-name.
// Sealed as upstream's: the pods' Docker network (network.ts) is made first, the API server
// listens on its gateway and on 127.0.0.1, everything else on 127.0.0.1 only.
// stop() ends the processes it started, then removes the cluster's containers, network and
// kubelet root dirs by the cluster label (cleanupCluster). KUBELING_TEST_LOGS=1 shows the
// scheduler's logs as well.

import { randomUUID } from "node:crypto";
import { NODES } from "#pkg/api/resources.js";
import type { Node } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { KUBE_PROXY_USER, NODES_GROUP, nodeUser, SCHEDULER_USER } from "#pkg/pki/cluster.js";
import { type StartApiServerOptions, startApiServer, type TestApiServer } from "./apiserver.js";
import { type HttpsAnswer, type HttpsCredentials, httpsGet } from "./https.js";
import { ensureLocalImages } from "./images.js";
import { cleanupCluster, docker, killAndWait, startKubelet, type TestKubelet } from "./kubelet.js";
import { ensurePodNetwork, type PodNetwork } from "./network.js";
import { type ProxyMode, startProxy, type TestProxy } from "./proxy.js";
import { claimServiceSlot, type ServiceSlot } from "./service-slots.js";

export { killAndWait };

import { freePort } from "./ports.js";
import { startComponent } from "./process.js";
import { waitFor } from "./wait.js";

export interface TestScheduler {
  port: number;
  pid: number;
  /** GET https://127.0.0.1:<port><path> (the secure port) with these credentials (default: none, anonymous). */
  get(path: string, credentials?: HttpsCredentials): Promise<HttpsAnswer>;
  /** Recent output, for assertion messages. */
  output(): string;
  /** SIGTERM, SIGKILL after 10 s; waits for the exit. */
  stop(): Promise<void>;
}

/** startScheduler starts scheduler/main.ts against a kubeconfig and waits for its /readyz (informers synced). */
export async function startScheduler(o: {
  kubeconfigPath: string;
  /** --client-ca-file of the secure port. */
  clientCAFile?: string;
  extraArgs?: string[];
}): Promise<TestScheduler> {
  const port = await freePort();
  const proc = startComponent("kubeling-scheduler", "scheduler/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    ...(o.clientCAFile ? [`--client-ca-file=${o.clientCAFile}`] : []),
    ...(o.extraArgs ?? []),
  ]);
  const stop = () => proc.end("SIGTERM");
  try {
    // Leader election on a fresh Lease plus the informers' first list: seconds on a busy box.
    await proc.waitHealthy(port, "/readyz", 60_000, "127.0.0.1", "https");
  } catch (err) {
    await stop();
    throw err;
  }
  const get = (path: string, credentials: HttpsCredentials = {}) =>
    httpsGet(`https://127.0.0.1:${port}${path}`, credentials);
  return { port, pid: proc.child.pid as number, get, output: proc.output, stop };
}

export interface ClusterNodeSpec {
  name: string;
  /** --node-labels */
  labels?: Record<string, string>;
  /** --register-with-taints, e.g. ["dedicated=special:NoSchedule"] */
  taints?: string[];
  /**
   * The kubelet listens on the pods network's gateway (its node address), where pods reach it as
   * they reach upstream's; default 127.0.0.1, out of their reach.
   */
  onPodNetwork?: boolean;
  extraArgs?: string[];
}

export interface StartClusterOptions {
  /** Docker cluster name (label kubeling.io/cluster, network); default a unique `kl-<8 hex>`. */
  clusterName?: string;
  /** Kubelets to start; default node-1 and node-2. */
  nodes?: Array<string | ClusterNodeSpec>;
  /**
   * Use this API server (not stopped by stop()); default: start one, listening on 127.0.0.1 and
   * on the pods network's gateway (its advertise address, behind the `kubernetes` Service's cluster
   * IP, the pods' KUBERNETES_SERVICE_HOST: pods that call the API server need `proxy`).
   */
  api?: TestApiServer;
  apiserver?: StartApiServerOptions;
  schedulerArgs?: string[];
  /** Start no scheduler (pods need spec.nodeName then). */
  noScheduler?: boolean;
  /**
   * Run kubeling-proxy (as node-1's) in this mode: the cluster then takes a service slot of its own
   * (service-slots.ts: its Service range and node ports, given to the API server and the proxy),
   * and stop() runs the proxy's --cleanup.
   */
  proxy?: { mode: ProxyMode; extraArgs?: string[] };
  /** Take a service slot without starting a proxy (a test that starts its own). */
  serviceSlot?: boolean;
}

export interface TestCluster {
  clusterName: string;
  /** The Docker network of the cluster's pods (made before the API server, removed by stop()). */
  podNetwork: PodNetwork;
  api: TestApiServer;
  client: ApiClient;
  kubeconfigPath: string;
  scheduler?: TestScheduler;
  kubelets: TestKubelet[];
  proxy?: TestProxy;
  /** The Service range and node ports of a cluster with a proxy. */
  serviceSlot?: ServiceSlot;
  /** Logs of every process it started, for assertion messages (tail of each). */
  logs(): string;
  stop(): Promise<void>;
}

function nodeReady(n: Node): boolean {
  return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/**
 * removeClusterObjects: kills the running containers (killAndWait), then cleanupCluster until Docker holds no container of the cluster (fails
 * after 60 s), then retries the network for up to 20 s. Docker 20.10 can keep a stale endpoint on
 * a bridge network after a burst of container removals (moby/moby#17217, #23302: "has active
 * endpoints" with no container attached, `disconnect -f` cannot clear it, only a daemon restart);
 * such a network is reported on stderr and left, rather than failing the caller.
 */
export async function removeClusterObjects(clusterName: string): Promise<void> {
  const label = `kubeling.io/cluster=${clusterName}`;
  await killAndWait(await docker.listContainers({ filters: { label: [label], status: ["running"] } }));
  await waitFor(
    async () => {
      await cleanupCluster(clusterName);
      return (await docker.listContainers({ all: true, filters: { label: [label] } })).length === 0;
    },
    { timeoutMs: 60_000, intervalMs: 500, message: `containers of cluster ${clusterName} removed` },
  );
  const netsLeft = async () => docker.listNetworks({ filters: { label: [label] } });
  try {
    await waitFor(
      async () => {
        const nets = await netsLeft();
        if (nets.length === 0) return true;
        await cleanupCluster(clusterName);
        return false;
      },
      { timeoutMs: 20_000, intervalMs: 500, message: `network of cluster ${clusterName} removed` },
    );
  } catch {
    const names = (await netsLeft()).map((n) => n.Name).join(", ");
    process.stderr.write(
      `[harness] Docker refuses to remove network(s) ${names} (stale endpoint in dockerd, see moby/moby#17217); left behind\n`,
    );
  }
}

/**
 * startCluster: apiserver + scheduler + kubelets, returning once every Node is Ready and the
 * scheduler's informers are synced. Fails loudly when Docker or the local images are missing.
 */
export async function startCluster(o: StartClusterOptions = {}): Promise<TestCluster> {
  await docker.ping();
  ensureLocalImages();
  const clusterName = o.clusterName ?? `kl-${randomUUID().slice(0, 8)}`;
  const specs = (o.nodes ?? ["node-1", "node-2"]).map((n) => (typeof n === "string" ? { name: n } : n));
  const ownsApi = o.api === undefined;
  let api: TestApiServer | undefined = o.api;
  let scheduler: TestScheduler | undefined;
  let proxy: TestProxy | undefined;
  let slot: ServiceSlot | undefined;
  const kubelets: TestKubelet[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled([scheduler?.stop(), proxy?.stop(), ...kubelets.map((k) => k.stop())]);
    await removeClusterObjects(clusterName);
    if (ownsApi) await api?.stop();
    await slot?.release();
  };

  try {
    if (o.proxy || o.serviceSlot) slot = await claimServiceSlot();
    // The pods network first: the API server listens on its gateway too.
    const podNetwork = await ensurePodNetwork(clusterName, slot ? { serviceClusterIPRange: slot.serviceCIDR } : {});
    api ??= await startApiServer({
      ...o.apiserver,
      bindAddresses: o.apiserver?.bindAddresses ?? ["127.0.0.1", podNetwork.gateway],
      ...(slot ? { serviceClusterIPRange: slot.serviceCIDR } : {}),
      extraArgs: [
        ...(o.apiserver?.extraArgs ?? []),
        ...(slot ? [`--service-node-port-range=${slot.nodePortRange}`] : []),
      ],
    });
    const a = api;
    // Kubelets and the scheduler start in parallel (each is a tsx process; startup is mostly
    // compile time). allSettled, so that a failure stops only after every start has finished.
    // Each component under its own identity, as in production (pkg/pki/cluster.ts).
    const started = await Promise.allSettled([
      o.noScheduler
        ? Promise.resolve(undefined)
        : a
            .kubeconfigFor({ name: SCHEDULER_USER })
            .then((kubeconfigPath) =>
              startScheduler({ kubeconfigPath, clientCAFile: a.pki.caCert, extraArgs: o.schedulerArgs ?? [] }),
            ),
      ...specs.map(async (s) =>
        startKubelet({
          kubeconfigPath: await a.kubeconfigFor({ name: nodeUser(s.name), groups: [NODES_GROUP] }),
          pki: a.pki,
          nodeName: s.name,
          clusterName,
          ...(s.onPodNetwork ? { address: podNetwork.gateway } : {}),
          extraArgs: [
            ...(s.labels
              ? [
                  `--node-labels=${Object.entries(s.labels)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(",")}`,
                ]
              : []),
            ...(s.taints?.length ? [`--register-with-taints=${s.taints.join(",")}`] : []),
            ...(s.extraArgs ?? []),
          ],
        }),
      ),
    ]);
    const [sched, ...ks] = started;
    if (sched?.status === "fulfilled") scheduler = sched.value as TestScheduler | undefined;
    for (const k of ks) if (k.status === "fulfilled") kubelets.push(k.value as TestKubelet);
    const failed = started.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    if (o.proxy && slot) {
      proxy = await startProxy({
        kubeconfigPath: await a.kubeconfigFor({ name: KUBE_PROXY_USER }),
        clusterName,
        mode: o.proxy.mode,
        serviceCIDR: slot.serviceCIDR,
        clusterCIDR: podNetwork.subnet,
        hostname: specs[0]?.name ?? "node-1",
        clientCAFile: a.pki.caCert,
        credentials: { token: a.token },
        ...(o.proxy.extraArgs ? { extraArgs: o.proxy.extraArgs } : {}),
      });
    }
    await waitFor(
      async () => {
        const list = await a.client.list<Node>(NODES, undefined);
        return specs.every((s) => list.items.some((n) => n.metadata.name === s.name && nodeReady(n)));
      },
      { timeoutMs: 60_000, intervalMs: 200, message: `nodes ${specs.map((s) => s.name).join(", ")} Ready` },
    );
    return {
      clusterName,
      podNetwork,
      api: a,
      client: a.client,
      kubeconfigPath: a.kubeconfigPath,
      ...(scheduler ? { scheduler } : {}),
      kubelets: [...kubelets],
      ...(proxy ? { proxy } : {}),
      ...(slot ? { serviceSlot: slot } : {}),
      logs: () =>
        [
          ...(scheduler ? [`--- scheduler ---\n${scheduler.output().slice(-4000)}`] : []),
          ...(proxy ? [`--- proxy ---\n${proxy.output().slice(-4000)}`] : []),
          ...kubelets.map((k) => `--- kubelet ${k.nodeName} ---\n${k.output().slice(-4000)}`),
        ].join("\n"),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
