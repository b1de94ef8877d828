// Scheduler throughput (PERF.md A3: upstream scheduler_perf reaches 570–1,100 pods/s in
// process at 5k nodes; CL2's 100-node threshold is 90 pods/s). Two figures:
//  - algorithm: scheduleOne over an in-memory cache (filter + score + assume), no API;
//  - end to end: N pods pending in the REAL API server, M simulated nodes (Node objects created
//    through the API, no kubelets); a SchedulerApp (informers, binding POSTs, Scheduled Events)
//    starts and we time until every pod is bound, as scheduler_perf's SchedulingThroughput.
//
// `node --conditions=source --import tsx bench/scheduler.ts [--nodes 100] [--pods 1000]` runs it
// alone (own etcd + API server); bench/main.ts can call runSchedulerBench({ target }).

import { performance } from "node:perf_hooks";
import { isAlreadyExists } from "#pkg/api/errors.js";
import { NAMESPACES, NODES, PODS } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { SchedulerApp } from "../scheduler/app.js";
import type { SchedulerApi } from "../scheduler/scheduler.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { startApiServer, type TestApiServer } from "../test/harness/apiserver.js";
import { waitFor } from "../test/harness/wait.js";
import type { BenchRow } from "./stats.js";

export interface SchedulerBenchOptions {
  /** A running API server; default: start one (and its etcd) for the run. */
  target?: TestApiServer;
  nodes?: number;
  pods?: number;
  /** Concurrent creates while loading pods (default 16). */
  createConcurrency?: number;
  log?: (msg: string) => void;
}

export interface SchedulerBenchResult {
  nodes: number;
  pods: number;
  /** In-memory scheduling (filter/score/assume), pods per second. */
  algorithmPodsPerSec: number;
  /** Pods created per second while loading the backlog (API server + etcd). */
  createPodsPerSec: number;
  /** Pending pods bound per second by a fresh scheduler against the API server. */
  podsPerSec: number;
  /** Seconds from caches synced to the last binding returned. */
  scheduleSeconds: number;
  /** Largest minus smallest number of pods per node at the end (spreading check). */
  perNodeSpread: number;
  rows: BenchRow[];
}

const NS = "bench-scheduler";
const NODE_CPU = "8";
const NODE_MEMORY = "32Gi";

function nodeObject(name: string): Node {
  const amounts = { cpu: NODE_CPU, memory: NODE_MEMORY, pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "bench.kubeling.io/sim": "true" } },
    spec: {},
    status: { capacity: amounts, allocatable: amounts, conditions: [{ type: "Ready", status: "True" }] },
  };
}

function podObject(name: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: NS,
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "bench", uid: "bench-rs-uid", controller: true },
      ],
    },
    spec: {
      containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "100m", memory: "64Mi" } } }],
    },
  };
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** The in-memory figure: the scheduling algorithm alone, binding is a no-op. */
async function algorithmOnly(nodes: number, pods: number): Promise<number> {
  const api: SchedulerApi = { bind: async () => {}, updatePodCondition: async () => {} };
  const s = new Scheduler({ api });
  for (let i = 0; i < nodes; i++) s.onNodeAdd(nodeObject(`sim-${i}`));
  for (let i = 0; i < pods; i++) s.onPodAdd(podObject(`algo-${i}`));
  const t0 = performance.now();
  for (let i = 0; i < pods; i++) await s.scheduleOne();
  const secs = (performance.now() - t0) / 1000;
  await s.waitForBindings();
  if (s.cache.assumedCount !== pods) throw new Error(`algorithm run placed ${s.cache.assumedCount} of ${pods}`);
  return pods / secs;
}

export async function runSchedulerBench(o: SchedulerBenchOptions = {}): Promise<SchedulerBenchResult> {
  const nodes = o.nodes ?? 100;
  const pods = o.pods ?? 1000;
  const log = o.log ?? (() => {});
  const own = o.target ? undefined : await startApiServer({ extraArgs: ["--log-level=warn"] });
  const target = o.target ?? own;
  if (!target) throw new Error("no API server");
  const client = target.client;
  const ac = new AbortController();
  let run: Promise<unknown> | undefined;
  try {
    const algorithmPodsPerSec = await algorithmOnly(nodes, pods);
    log(`scheduler: algorithm ${Math.round(algorithmPodsPerSec)} pods/s`);

    try {
      await client.create(NAMESPACES, undefined, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: NS },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    await pool(nodes, 16, (i) => client.create(NODES, undefined, nodeObject(`sim-${i}`)));
    const tc = performance.now();
    await pool(pods, o.createConcurrency ?? 16, (i) => client.create(PODS, NS, podObject(`bench-${i}`)));
    const createPodsPerSec = pods / ((performance.now() - tc) / 1000);
    log(`scheduler: ${nodes} nodes, ${pods} pending pods created (${Math.round(createPodsPerSec)}/s)`);

    const app = new SchedulerApp({ client, leaderElect: false, log: silentLogger });
    run = app.run(ac.signal);
    // Time from the caches being synced (the scheduler knows every pending pod) to the last bind.
    const deadline = Date.now() + 300_000;
    const poll = (message: string) => ({ timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 5, message });
    await waitFor(() => app.hasSynced(), poll("the scheduler caches to sync"));
    const t0 = performance.now();
    const m = app.scheduler.metrics;
    await waitFor(() => m.bindings.ok + m.bindings.failed >= pods, poll(`all ${pods} pods to be bound`));
    const scheduleSeconds = (performance.now() - t0) / 1000;
    if (m.bindings.failed > 0) throw new Error(`${m.bindings.failed} bindings failed`);
    const podsPerSec = pods / scheduleSeconds;
    log(`scheduler: ${pods} pods bound in ${scheduleSeconds.toFixed(2)} s (${Math.round(podsPerSec)} pods/s)`);

    // Check against the API server: every pod bound, spread evenly (one owner, equal nodes).
    const list = await client.list(PODS, NS);
    const perNode = new Map<string, number>();
    for (const p of list.items) {
      const n = p.spec?.nodeName;
      if (!n) throw new Error(`pod ${p.metadata.name} is not bound`);
      perNode.set(n, (perNode.get(n) ?? 0) + 1);
    }
    const counts = [...perNode.values()];
    const perNodeSpread = Math.max(...counts) - Math.min(...counts) + (perNode.size < nodes ? Math.min(...counts) : 0);

    const none = { p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
    const rows: BenchRow[] = [
      {
        group: "scheduler",
        name: `algorithm only (${nodes} nodes, in memory)`,
        n: pods,
        opsPerSec: algorithmPodsPerSec,
        ...none,
        reference: "scheduler_perf 5k nodes: 570-1,100 pods/s",
      },
      {
        group: "scheduler",
        name: `create pending pods (c${o.createConcurrency ?? 16})`,
        n: pods,
        opsPerSec: createPodsPerSec,
        ...none,
      },
      {
        group: "scheduler",
        name: `pending pods bound (${nodes} sim nodes, API)`,
        n: pods,
        opsPerSec: podsPerSec,
        ...none,
        reference: "CL2 100 nodes: >= 90 pods/s",
        note: `per-node spread ${perNodeSpread}`,
      },
    ];
    return {
      nodes,
      pods,
      algorithmPodsPerSec,
      createPodsPerSec,
      podsPerSec,
      scheduleSeconds,
      perNodeSpread,
      rows,
    };
  } finally {
    ac.abort();
    await run;
    // Leave a shared API server as we found it: the simulated nodes and the namespace go.
    if (o.target) {
      await client.deleteCollection(NODES, undefined, { labelSelector: "bench.kubeling.io/sim=true" }).catch(() => {});
      await client.delete(NAMESPACES, undefined, NS).catch(() => {});
    }
    await own?.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, def: number) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  runSchedulerBench({
    nodes: arg("nodes", 100),
    pods: arg("pods", 1000),
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
  })
    .then((r) => {
      const { rows: _rows, ...figures } = r;
      console.log(JSON.stringify(figures, null, 2));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
