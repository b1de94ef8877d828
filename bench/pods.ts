// Pod startup latency (PERF.md C2; upstream SLI: schedulable pod created → observed Running via
// watch, image already local, SLO p99 ≤ 5 s). A real cluster of processes (test/harness/cluster.ts):
// the API server, the scheduler and TWO kubelets (node-1, node-2) sharing the one Docker engine; the
// scheduler spreads the pods over both. Pods: one busybox container `sleep 3600`
// (kubeling.local/busybox:latest), so each pod is two Docker containers (pause sandbox + app).
//
// Bursts of 1 (repeated, sequentially), 10 and 50 pods created at once; for each pod the time from
// just before its create request to the first watch event showing it bound and then Running.
// Next to it, the floor, in the same run on the same engine: dockerode create+start of the same
// containers directly (sandbox on Docker's default bridge network, then the app joined to its network
// namespace), and of one container alone (PERF.md B2's figure), 1 / 10 / 50 concurrently.
// Everything is removed between rounds (pods deleted and their containers gone; floor containers
// force-removed), so each round starts from an idle node.
//
// `node --conditions=source --import tsx bench/pods.ts` runs it alone (own etcd + API server);
// bench/main.ts calls runPodStartupBench({ etcd }).

import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type Docker from "dockerode";
import { isAlreadyExists } from "#pkg/api/errors.js";
import { NAMESPACES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { killAndWait, removeClusterObjects, startCluster, type TestCluster } from "../test/harness/cluster.js";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "../test/harness/images.js";
import { clusterContainers, docker } from "../test/harness/kubelet.js";
import { waitFor } from "../test/harness/wait.js";
import { type BenchRow, row, summarize } from "./stats.js";

export interface PodBenchOptions {
  /** etcd for the bench's own API server (unique prefix); default: the harness's shared etcd. */
  etcd?: string;
  /** Burst sizes; default 1, 10, 50. */
  sizes?: number[];
  /** How many times a burst of 1 is repeated (sequentially) so that p50 means something; default 5. */
  singleRepeats?: number;
  log?: (msg: string) => void;
}

export interface PodRound {
  size: number;
  samples: number;
  /** create → Running seen via watch, per pod. */
  runningMs: number[];
  /** create → bound (spec.nodeName) seen via watch, per pod. */
  boundMs: number[];
  /** first create sent → last pod Running, per burst. */
  wallMs: number[];
  perNode: Record<string, number>;
}

export interface FloorRound {
  size: number;
  kind: "sandbox+app" | "1 container";
  /** create+start per pod (pair) or container, from the burst start. */
  latencyMs: number[];
  wallMs: number[];
}

export interface PodBenchResult {
  pods: PodRound[];
  floor: FloorRound[];
  rows: BenchRow[];
}

const NS = "bench-pods";
const ROUND_LABEL = "bench.kubeling.io/round";
const RUNNING_DEADLINE_MS = Number(process.env.BENCH_PODS_DEADLINE_MS ?? 300_000);
const CLEANUP_DEADLINE_MS = 180_000;
export const FLOOR_NETWORK = "bridge";

function podObject(name: string, round: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { [ROUND_LABEL]: round } },
    spec: {
      // docker-init forwards SIGTERM (Init: true), so a 1 s grace is plenty and cleanup is quick.
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: "sleep", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] },
      ],
    },
  };
}

/** poll a condition with a deadline (bench cleanup; no fixed sleeps). */
const until = (what: string, deadlineMs: number, fn: () => Promise<boolean>) =>
  waitFor(fn, { timeoutMs: deadlineMs, intervalMs: 100, message: what });

/** One burst of `size` pods through the cluster; returns per-pod latencies. */
async function podBurst(c: TestCluster, size: number, round: string): Promise<Omit<PodRound, "samples">> {
  const client = c.client;
  const names = Array.from({ length: size }, (_, i) => `${round}-${i}`);
  const sent = new Map<string, number>();
  const bound = new Map<string, number>();
  const running = new Map<string, number>();
  const nodeOf = new Map<string, string>();
  const ac = new AbortController();
  const start = await client.list(PODS, NS, { labelSelector: `${ROUND_LABEL}=${round}` });
  let allRunning!: () => void;
  const done = new Promise<void>((r) => {
    allRunning = r;
  });
  const watching = (async () => {
    const events = client.watch(
      PODS,
      NS,
      { labelSelector: `${ROUND_LABEL}=${round}`, resourceVersion: start.metadata.resourceVersion ?? "0" },
      ac.signal,
    );
    for await (const ev of events) {
      const at = performance.now();
      const p = ev.object;
      const name = p.metadata.name;
      if (!name) continue;
      if (p.spec?.nodeName && !bound.has(name)) {
        bound.set(name, at);
        nodeOf.set(name, p.spec.nodeName);
      }
      if (p.status?.phase === "Running" && !running.has(name)) {
        running.set(name, at);
        if (running.size === size) allRunning();
      }
    }
  })().catch((err: unknown) => {
    if (!ac.signal.aborted) throw err;
  });
  const t0 = performance.now();
  try {
    await Promise.all(
      names.map((n) => {
        sent.set(n, performance.now());
        return client.create(PODS, NS, podObject(n, round));
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      done,
      watching.then(() => {
        throw new Error("pod watch ended early");
      }),
      new Promise((_, rej) => {
        timer = setTimeout(
          () => rej(new Error(`${running.size} of ${size} pods Running after ${RUNNING_DEADLINE_MS} ms`)),
          RUNNING_DEADLINE_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (err) {
    // Say where the pods are stuck: their phase/node/conditions and the processes' recent logs.
    const left = await client.list(PODS, NS, { labelSelector: `${ROUND_LABEL}=${round}` }).catch(() => undefined);
    const states = (left?.items ?? [])
      .filter((p) => p.status?.phase !== "Running")
      .slice(0, 5)
      .map((p) => JSON.stringify({ name: p.metadata.name, node: p.spec?.nodeName, status: p.status }));
    throw new Error(`${(err as Error).message}\nnot Running: ${states.join("\n")}\n${c.logs()}`, { cause: err });
  } finally {
    ac.abort();
    await watching.catch(() => undefined);
  }
  const last = Math.max(...running.values());
  const perNode: Record<string, number> = {};
  for (const n of nodeOf.values()) perNode[n] = (perNode[n] ?? 0) + 1;
  return {
    size,
    runningMs: names.map((n) => (running.get(n) ?? Number.NaN) - (sent.get(n) ?? Number.NaN)),
    boundMs: names.map((n) => (bound.get(n) ?? Number.NaN) - (sent.get(n) ?? Number.NaN)),
    wallMs: [last - t0],
    perNode,
  };
}

/** Deletes a round's pods and waits until the API and Docker hold none of them. */
async function cleanupPods(c: TestCluster, round: string): Promise<void> {
  await c.client.deleteCollection(PODS, NS, { labelSelector: `${ROUND_LABEL}=${round}` });
  await until(`pods of ${round} deleted and their containers removed`, CLEANUP_DEADLINE_MS, async () => {
    const left = await c.client.list(PODS, NS, { labelSelector: `${ROUND_LABEL}=${round}` });
    if (left.items.length > 0) return false;
    const cs = await clusterContainers(c.clusterName);
    return !cs.some((x) => x.Labels["io.kubernetes.pod.namespace"] === NS);
  });
}

/** The floor: the same containers straight through dockerode, `size` at once. */
export async function floorBurst(
  floorCluster: string,
  network: string,
  size: number,
  kind: FloorRound["kind"],
  tag: string,
): Promise<{ latencyMs: number[]; wallMs: number }> {
  const labels = { "kubeling.io/cluster": floorCluster };
  const t0 = performance.now();
  const one = async (i: number): Promise<number> => {
    const s = performance.now();
    if (kind === "1 container") {
      const c = await docker.createContainer({
        name: `${floorCluster}-${tag}-${i}`,
        Image: BUSYBOX_IMAGE,
        Entrypoint: ["sleep"],
        Cmd: ["3600"],
        Labels: labels,
        HostConfig: { NetworkMode: network, Init: true },
      });
      await c.start();
      return performance.now() - s;
    }
    // What the kubelet does per pod: sandbox on a bridge network, then the app in its namespaces.
    const sandbox = await docker.createContainer({
      name: `${floorCluster}-${tag}-${i}-pause`,
      Image: PAUSE_IMAGE,
      Labels: { ...labels, "kubeling.io/container-type": "sandbox" },
      HostConfig: { NetworkMode: network, Init: true, IpcMode: "shareable" },
    });
    await sandbox.start();
    const app = await docker.createContainer({
      name: `${floorCluster}-${tag}-${i}-sleep`,
      Image: BUSYBOX_IMAGE,
      Entrypoint: ["sleep"],
      Cmd: ["3600"],
      Labels: labels,
      HostConfig: {
        NetworkMode: `container:${sandbox.id}`,
        IpcMode: `container:${sandbox.id}`,
        Init: true,
      },
    });
    await app.start();
    return performance.now() - s;
  };
  const latencyMs = await Promise.all(Array.from({ length: size }, (_, i) => one(i)));
  return { latencyMs, wallMs: performance.now() - t0 };
}

export async function removeFloorContainers(floorCluster: string): Promise<void> {
  const cs: Docker.ContainerInfo[] = await clusterContainers(floorCluster);
  // Kill and wait first: concurrent force-removes of running containers leak network endpoints in dockerd.
  await killAndWait(cs);
  await Promise.all(cs.map((c) => docker.getContainer(c.Id).remove({ force: true })));
}

function fmtSec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

const FLOOR_REF: Record<number, string> = {
  1: "B2: create+start 183-192 ms",
  10: "B2: 10 conc. 1.02 s wall, p50 0.87 s",
  50: "B2: 50 conc. 5.16 s wall, p50 4.0 s",
};

export async function runPodStartupBench(o: PodBenchOptions = {}): Promise<PodBenchResult> {
  const sizes = o.sizes ?? [1, 10, 50];
  const singleRepeats = o.singleRepeats ?? 5;
  const log = o.log ?? (() => {});
  const c = await startCluster({
    nodes: ["node-1", "node-2"],
    apiserver: { ...(o.etcd ? { etcd: o.etcd } : {}), extraArgs: ["--log-level=warn"] },
  });
  const floorCluster = `${c.clusterName}-floor`;
  const pods: PodRound[] = [];
  const floor: FloorRound[] = [];
  const rows: BenchRow[] = [];
  try {
    log(`pods: cluster ${c.clusterName} up (apiserver, scheduler, kubelets node-1 and node-2)`);
    try {
      await c.client.create(NAMESPACES, undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: NS },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // The floor's sandboxes go on Docker's default bridge network, not a network of their own: dockerd
    // 20.10 sometimes keeps a stale endpoint after a burst (moby/moby#17217), and a network with one
    // can never be removed; the default bridge is never removed, so nothing leaks per run.

    for (const size of sizes) {
      const repeats = size === 1 ? singleRepeats : 1;
      // The floor first, on an idle engine, then the same burst through kubeling.
      for (const kind of ["sandbox+app", "1 container"] as const) {
        const fr: FloorRound = { size, kind, latencyMs: [], wallMs: [] };
        for (let r = 0; r < repeats; r++) {
          const b = await floorBurst(
            floorCluster,
            FLOOR_NETWORK,
            size,
            kind,
            `${size}-${kind === "1 container" ? "c" : "p"}${r}`,
          );
          fr.latencyMs.push(...b.latencyMs);
          fr.wallMs.push(b.wallMs);
          await removeFloorContainers(floorCluster);
        }
        floor.push(fr);
        log(`pods: docker floor ${kind} x${size}: wall ${fr.wallMs.map(fmtSec).join(", ")}`);
      }
      const pr: PodRound = { size, samples: 0, runningMs: [], boundMs: [], wallMs: [], perNode: {} };
      for (let r = 0; r < repeats; r++) {
        const round = `p${size}-${r}-${randomUUID().slice(0, 4)}`;
        try {
          const b = await podBurst(c, size, round);
          pr.runningMs.push(...b.runningMs);
          pr.boundMs.push(...b.boundMs);
          pr.wallMs.push(...b.wallMs);
          for (const [n, k] of Object.entries(b.perNode)) pr.perNode[n] = (pr.perNode[n] ?? 0) + k;
        } finally {
          await cleanupPods(c, round);
        }
      }
      pr.samples = pr.runningMs.length;
      pods.push(pr);
      log(
        `pods: kubeling ${size} pods: wall ${pr.wallMs.map(fmtSec).join(", ")}, per node ${JSON.stringify(pr.perNode)}`,
      );

      const running = summarize(pr.runningMs);
      const wall = Math.max(...pr.wallMs);
      const perNode = Object.entries(pr.perNode)
        .sort()
        .map(([n, k]) => `${n} ${k}`)
        .join(", ");
      const burst = size === 1 ? `1 pod x${repeats} sequential` : `${size} pods at once`;
      rows.push(
        row("pods", `kubeling create → Running (${burst})`, running, {
          concurrency: size,
          ...(size > 1 ? { opsPerSec: (size / wall) * 1000 } : {}),
          reference: "SLO p99 ≤ 5 s (C2)",
          note: `2 kubelets (${perNode}); burst wall ${pr.wallMs.map(fmtSec).join(", ")}`,
        }),
        row("pods", `kubeling create → bound (${burst})`, summarize(pr.boundMs), { concurrency: size }),
      );
      for (const fr of floor.filter((f) => f.size === size)) {
        const fw = Math.max(...fr.wallMs);
        rows.push(
          row(
            "pods",
            `docker create+start ${fr.kind} (${size === 1 ? `1 x${repeats} sequential` : `${size} at once`})`,
            summarize(fr.latencyMs),
            {
              concurrency: size,
              ...(size > 1 ? { opsPerSec: (size / fw) * 1000 } : {}),
              ...(fr.kind === "1 container" ? { reference: FLOOR_REF[size] ?? "" } : {}),
              ...(size > 1 ? { note: `burst wall ${fmtSec(fw)}` } : {}),
            },
          ),
        );
      }
    }
    return { pods, floor, rows };
  } finally {
    await removeFloorContainers(floorCluster).catch(() => undefined);
    await removeClusterObjects(floorCluster).catch(() => undefined);
    await c.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import("./stats.js");
  runPodStartupBench({ log: (m) => process.stderr.write(`[bench] ${m}\n`) })
    .then((r) => {
      console.log(formatTable(r.rows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
