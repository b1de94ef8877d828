// Deployments end to end (issue 7): a real cluster of processes (API server, scheduler, two
// kubelets on the one Docker engine, kubeling-controller-manager) and, next to each figure, its
// floor measured in the same run on the same engine (bench/pods.ts floorBurst: the sandbox+app
// container pairs the kubelet would start, straight through dockerode).
//
// - create a Deployment with 50 replicas → status.availableReplicas 50 seen via a watch, against
//   50 sandbox+app pairs started at once (goal: within 1.25× of the floor);
// - a node lost (its kubelet SIGKILLed): from the unreachable NoExecute taint seen via a watch to
//   the Deployment whole again on the other node, against as many pairs as the node held. The
//   pods tolerate the taint for 0 s, so the figure is eviction + rescheduling + start, not the
//   toleration; the controller-manager's --node-monitor-grace-period is shortened to 6 s so the taint
//   comes quickly (the time to the taint is the grace period by design and is reported apart).
//
// `node --conditions=source --import tsx bench/deployments.ts` runs it alone; bench/main.ts calls
// runDeploymentBench({ etcd }).

import { performance } from "node:perf_hooks";
import { isAlreadyExists } from "#pkg/api/errors.js";
import { DEPLOYMENTS, NAMESPACES, NODES, PODS } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/apps.js";
import type { Node, Pod } from "#pkg/api/types/core.js";
import type { ApiClient } from "#pkg/client/client.js";
import { removeClusterObjects, startCluster, type TestCluster } from "../test/harness/cluster.js";
import { startControllerManager } from "../test/harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../test/harness/images.js";
import { clusterContainers, docker } from "../test/harness/kubelet.js";
import { deployment as newDeployment } from "../test/harness/objects.js";
import { waitFor } from "../test/harness/wait.js";
import { FLOOR_NETWORK, floorBurst, removeFloorContainers } from "./pods.js";
import { type BenchRow, row, summarize } from "./stats.js";
import { RolloutTimeline } from "./timeline.js";

export interface DeploymentBenchOptions {
  etcd?: string;
  /** Replicas of the big Deployment; default 50. */
  replicas?: number;
  /** Rounds of (floor, Deployment); default 2, the best of each kept. */
  rounds?: number;
  /** Replicas of the Deployment whose node is lost; default 10. */
  lostReplicas?: number;
  log?: (msg: string) => void;
}

const NS = "bench-deploy";
const DEADLINE_MS = Number(process.env.BENCH_DEPLOY_DEADLINE_MS ?? 300_000);
const GRACE = "6s";
/** BENCH_DEPLOY_TIMELINE=1 logs each round's rollout timeline (its watches add a little load). */
const TIMELINE = process.env.BENCH_DEPLOY_TIMELINE === "1";
/**
 * The floor is measured twice: on Docker's default bridge (as the pods suite's; it never leaks a
 * network) and on a user-defined bridge network, as the kubelet's sandboxes must be (DESIGN.md
 * section 6: pods on a network of their own), which costs Docker more per sandbox (its embedded DNS).
 * The second is the like-for-like floor; both ratios are reported. BENCH_DEPLOY_NETWORK_FLOOR=0 skips it.
 */
const NETWORK_FLOOR = process.env.BENCH_DEPLOY_NETWORK_FLOOR !== "0";

/** userNetwork creates a bridge network labelled with the floor's cluster (removed with its objects). */
async function userNetwork(cluster: string): Promise<string> {
  const name = `${cluster}-net`;
  await docker.createNetwork({ Name: name, Driver: "bridge", Labels: { "kubeling.io/cluster": cluster } });
  return name;
}

const deployment = (name: string, replicas: number, tolerateLoss: boolean): Deployment =>
  newDeployment(name, replicas, {
    namespace: NS,
    container: "sleep",
    image: BUSYBOX_IMAGE,
    imagePullPolicy: "IfNotPresent",
    terminationGracePeriodSeconds: 1,
    ...(tolerateLoss
      ? {
          tolerations: ["unreachable", "not-ready"].map((t) => ({
            key: `node.kubernetes.io/${t}`,
            operator: "Exists" as const,
            effect: "NoExecute" as const,
            tolerationSeconds: 0,
          })),
        }
      : {}),
  });

/** Resolves with performance.now() at the first watch event of obj for which done() holds. */
async function watchUntil<T extends Deployment | Node>(
  client: ApiClient,
  r: typeof DEPLOYMENTS | typeof NODES,
  ns: string | undefined,
  name: string,
  done: (o: T) => boolean,
  what: string,
): Promise<number> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), DEADLINE_MS);
  try {
    const events = client.watch(r as typeof DEPLOYMENTS, ns, { fieldSelector: `metadata.name=${name}` }, ac.signal);
    for await (const ev of events) {
      if (done(ev.object as unknown as T)) return performance.now();
    }
    throw new Error(`${what}: not reached within ${DEADLINE_MS} ms`);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

const available = (n: number) => (d: Deployment) =>
  (d.status?.availableReplicas ?? 0) >= n &&
  d.status?.updatedReplicas === n &&
  (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1);

async function deleteAndWait(c: TestCluster, name: string): Promise<void> {
  await c.client.delete(DEPLOYMENTS, NS, name, { propagationPolicy: "Foreground" }).catch(() => undefined);
  await waitFor(
    async () => {
      const pods = await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` });
      if (pods.items.length > 0) return false;
      const cs = await clusterContainers(c.clusterName);
      return !cs.some((x) => x.Labels["io.kubernetes.pod.namespace"] === NS);
    },
    { timeoutMs: 180_000, intervalMs: 200, message: `deployment ${name} and its containers gone` },
  );
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function runDeploymentBench(o: DeploymentBenchOptions = {}): Promise<BenchRow[]> {
  const replicas = o.replicas ?? 50;
  const rounds = o.rounds ?? 2;
  const lostReplicas = o.lostReplicas ?? 10;
  const log = o.log ?? (() => {});
  const c = await startCluster({
    // Leases renewed every 2 s (a quarter of 8 s), well inside the shortened grace period.
    nodes: ["node-1", "node-2"].map((name) => ({ name, extraArgs: ["--node-lease-duration-seconds=8"] })),
    apiserver: { ...(o.etcd ? { etcd: o.etcd } : {}), extraArgs: ["--log-level=warn"] },
  });
  const cm = await startControllerManager({
    kubeconfigPath: c.kubeconfigPath,
    extraArgs: ["--leader-elect=false", `--node-monitor-grace-period=${GRACE}`, "--node-monitor-period=500ms"],
  });
  const floorCluster = `${c.clusterName}-floor`;
  const rows: BenchRow[] = [];
  try {
    try {
      await c.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }

    // 1. create deployment --replicas=N → N available, against N sandbox+app pairs.
    const floorWall: number[] = [];
    const netFloorWall: number[] = [];
    const kubeWall: number[] = [];
    const floorNet = NETWORK_FLOOR ? await userNetwork(floorCluster) : undefined;
    for (let r = 0; r < rounds; r++) {
      const f = await floorBurst(floorCluster, FLOOR_NETWORK, replicas, "sandbox+app", `d${r}`);
      floorWall.push(f.wallMs);
      await removeFloorContainers(floorCluster);
      if (floorNet) {
        const n = await floorBurst(floorCluster, floorNet, replicas, "sandbox+app", `n${r}`);
        netFloorWall.push(n.wallMs);
        await removeFloorContainers(floorCluster);
        log(`deployments: round ${r}: floor on a user-defined network ${fmt(n.wallMs)}`);
      }
      const name = `big-${r}`;
      const seen = watchUntil<Deployment>(c.client, DEPLOYMENTS, NS, name, available(replicas), `${name} available`);
      const timeline = TIMELINE ? new RolloutTimeline(c.client, NS, name) : undefined;
      const t0 = performance.now();
      timeline?.start();
      await c.client.create(DEPLOYMENTS, NS, deployment(name, replicas, false));
      kubeWall.push((await seen) - t0);
      log(`deployments: round ${r}: floor ${fmt(f.wallMs)}, kubeling ${fmt(kubeWall[r] as number)}`);
      if (timeline) for (const line of await timeline.report(c.clusterName)) log(`  timeline (s): ${line}`);
      await deleteAndWait(c, name);
    }
    const bestFloor = Math.min(...floorWall);
    const bestKube = Math.min(...kubeWall);
    rows.push(
      row("deployments", `create deployment --replicas=${replicas} → ${replicas} available`, summarize(kubeWall), {
        concurrency: replicas,
        reference: "goal ≤ 1.25× the floors below",
        note: `best ${fmt(bestKube)} = ${(bestKube / bestFloor).toFixed(2)}× the default-bridge floor${
          netFloorWall.length > 0
            ? `, ${(bestKube / Math.min(...netFloorWall)).toFixed(2)}× the same-network floor`
            : ""
        }; rounds ${kubeWall.map(fmt).join(", ")}`,
      }),
      row("deployments", `floor: docker ${replicas} sandbox+app pairs at once, default bridge`, summarize(floorWall), {
        concurrency: replicas,
        note: `rounds ${floorWall.map(fmt).join(", ")}`,
      }),
    );
    if (netFloorWall.length > 0) {
      const best = Math.min(...netFloorWall);
      rows.push(
        row(
          "deployments",
          `floor: the same pairs on a user-defined network (as the kubelet's)`,
          summarize(netFloorWall),
          {
            concurrency: replicas,
            note: `kubeling best = ${(bestKube / best).toFixed(2)}× this floor; rounds ${netFloorWall.map(fmt).join(", ")}`,
          },
        ),
      );
    }

    // 2. a node lost: taint seen → the Deployment whole again on the other node.
    // BENCH_DEPLOY_SKIP_LOST=1 skips it (to iterate on the create figure alone).
    if (process.env.BENCH_DEPLOY_SKIP_LOST === "1") return rows;
    const name = "lost";
    await c.client.create(DEPLOYMENTS, NS, deployment(name, lostReplicas, true));
    await watchUntil<Deployment>(c.client, DEPLOYMENTS, NS, name, available(lostReplicas), `${name} available`);
    const pods = (await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` })).items;
    const onLost = pods.filter((p) => p.spec?.nodeName === "node-1").length;
    if (onLost === 0) throw new Error(`no pod of ${name} on node-1: ${pods.map((p) => p.spec?.nodeName).join(",")}`);
    const f = await floorBurst(floorCluster, FLOOR_NETWORK, onLost, "sandbox+app", "lost");
    await removeFloorContainers(floorCluster);

    const tainted = watchUntil<Node>(
      c.client,
      NODES,
      undefined,
      "node-1",
      (n) =>
        n.spec?.taints?.some((t) => t.key === "node.kubernetes.io/unreachable" && t.effect === "NoExecute") ?? false,
      "node-1 tainted unreachable:NoExecute",
    );
    const killedAt = performance.now();
    await c.kubelets[0]?.kill();
    const taintAt = await tainted;
    // Whole again: every replica available, none left on the lost node.
    await waitFor(
      async () => {
        const d = await c.client.get<Deployment>(DEPLOYMENTS, NS, name);
        if ((d.status?.availableReplicas ?? 0) < lostReplicas) return false;
        const now = (await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` })).items;
        return (
          now.filter((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName === "node-2").length >= lostReplicas
        );
      },
      { timeoutMs: DEADLINE_MS, intervalMs: 100, message: `${name} whole again on node-2` },
    );
    const replaced = performance.now() - taintAt;
    log(`deployments: lost node: taint after ${fmt(taintAt - killedAt)}, ${onLost} pods replaced in ${fmt(replaced)}`);
    rows.push(
      row("deployments", `lost node: taint → its ${onLost} pods replaced`, summarize([replaced]), {
        concurrency: onLost,
        reference: "floor below",
        note: `${(replaced / f.wallMs).toFixed(2)}× floor; kubelet killed → taint ${fmt(taintAt - killedAt)} (grace ${GRACE})`,
      }),
      row("deployments", `floor: docker ${onLost} sandbox+app pairs at once`, summarize([f.wallMs]), {
        concurrency: onLost,
      }),
    );
    return rows;
  } finally {
    await removeFloorContainers(floorCluster).catch(() => undefined);
    await removeClusterObjects(floorCluster).catch(() => undefined);
    await cm.stop();
    await c.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import("./stats.js");
  runDeploymentBench({ log: (m) => process.stderr.write(`[bench] ${m}\n`) })
    .then((rows) => {
      console.log(formatTable(rows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
