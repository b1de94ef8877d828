// Jobs end to end (issue 11): a real cluster of processes (API server, scheduler, two kubelets on
// the one Docker engine, kubeling-controller-manager) runs a Job of 20 completions at
// parallelism 5 whose container is `true`, from the create to the Complete condition seen via a
// watch; next to it, in the same run on the same engine, its floor: the same 20 pods' containers
// (a sandbox on a user-defined bridge network as the kubelet's, then `true` in its namespaces,
// waited for until it exits) straight through dockerode, 5 at a time (a new one as one exits).
//
// The Job figure includes what upstream's controller does by design: pod events are folded into
// one sync a second later (syncJobBatchPeriod), and every pod's outcome takes two status writes
// and a finalizer removal (tracking with finalizers).
//
// `node --conditions=source --import tsx bench/jobs.ts` runs it alone; bench/main.ts calls
// runJobBench({ etcd }).

import { performance } from "node:perf_hooks";
import { isAlreadyExists } from "#pkg/api/errors.js";
import { JOBS, NAMESPACES, PODS } from "#pkg/api/resources.js";
import type { Job } from "#pkg/api/types/batch.js";
import { removeClusterObjects, startCluster } from "../test/harness/cluster.js";
import { startControllerManager } from "../test/harness/controller-manager.js";
import { BUSYBOX_IMAGE, PAUSE_IMAGE } from "../test/harness/images.js";
import { clusterContainers, docker } from "../test/harness/kubelet.js";
import { waitFor } from "../test/harness/wait.js";
import { removeFloorContainers } from "./pods.js";
import { type BenchRow, row, summarize } from "./stats.js";

export interface JobBenchOptions {
  etcd?: string;
  completions?: number;
  parallelism?: number;
  /** Rounds of (floor, Job); default 2. */
  rounds?: number;
  log?: (msg: string) => void;
}

const NS = "bench-jobs";
const DEADLINE_MS = 300_000;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function job(name: string, completions: number, parallelism: number): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: NS },
    spec: {
      completions,
      parallelism,
      template: {
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "true", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["true"] }],
        },
      },
    },
  };
}

/** The floor: `total` sandbox + `true` pairs, `concurrency` at a time, each waited for to exit. */
async function floorPool(floorCluster: string, network: string, total: number, concurrency: number, tag: string) {
  const labels = { "kubeling.io/cluster": floorCluster };
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const sandbox = await docker.createContainer({
        name: `${floorCluster}-${tag}-${i}-pause`,
        Image: PAUSE_IMAGE,
        Labels: { ...labels, "kubeling.io/container-type": "sandbox" },
        HostConfig: { NetworkMode: network, Init: true, IpcMode: "shareable" },
      });
      await sandbox.start();
      const app = await docker.createContainer({
        name: `${floorCluster}-${tag}-${i}-true`,
        Image: BUSYBOX_IMAGE,
        Entrypoint: ["true"],
        Labels: labels,
        HostConfig: { NetworkMode: `container:${sandbox.id}`, IpcMode: `container:${sandbox.id}`, Init: true },
      });
      await app.start();
      await app.wait();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return performance.now() - t0;
}

/** Resolves with performance.now() at the first watch event of the Job with the Complete condition. */
async function completeAt(c: Awaited<ReturnType<typeof startCluster>>, name: string): Promise<number> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), DEADLINE_MS);
  try {
    for await (const ev of c.client.watch(JOBS, NS, { fieldSelector: `metadata.name=${name}` }, ac.signal)) {
      const done = ev.object.status?.conditions?.some((x) => x.type === "Complete" && x.status === "True");
      if (done) return performance.now();
    }
    throw new Error(`job ${name}: not complete within ${DEADLINE_MS} ms`);
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

export async function runJobBench(o: JobBenchOptions = {}): Promise<BenchRow[]> {
  const completions = o.completions ?? 20;
  const parallelism = o.parallelism ?? 5;
  const rounds = o.rounds ?? 2;
  const log = o.log ?? (() => {});
  const c = await startCluster({
    apiserver: { ...(o.etcd ? { etcd: o.etcd } : {}), extraArgs: ["--log-level=warn"] },
  });
  const cm = await startControllerManager({
    kubeconfigPath: c.kubeconfigPath,
    extraArgs: ["--leader-elect=false", "--log-level=warn"],
  });
  const floorCluster = `${c.clusterName}-floor`;
  try {
    try {
      await c.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    const floorNet = `${floorCluster}-net`;
    await docker.createNetwork({ Name: floorNet, Driver: "bridge", Labels: { "kubeling.io/cluster": floorCluster } });
    const floor: number[] = [];
    const kube: number[] = [];
    for (let r = 0; r < rounds; r++) {
      floor.push(await floorPool(floorCluster, floorNet, completions, parallelism, `j${r}`));
      await removeFloorContainers(floorCluster);
      const name = `true-${r}`;
      const done = completeAt(c, name);
      const t0 = performance.now();
      await c.client.create(JOBS, NS, job(name, completions, parallelism));
      kube.push((await done) - t0);
      const j = await c.client.get(JOBS, NS, name);
      if (j.status?.succeeded !== completions) throw new Error(`job ${name}: succeeded ${j.status?.succeeded}`);
      log(`jobs: round ${r}: floor ${fmt(floor[r] as number)}, kubeling ${fmt(kube[r] as number)}`);
      await c.client.delete(JOBS, NS, name, { propagationPolicy: "Foreground" });
      await waitFor(
        async () =>
          (await c.client.list(PODS, NS)).items.length === 0 &&
          !(await clusterContainers(c.clusterName)).some((x) => x.Labels["io.kubernetes.pod.namespace"] === NS),
        { timeoutMs: 180_000, intervalMs: 200, message: `job ${name}'s pods and containers gone` },
      );
    }
    const bestFloor = Math.min(...floor);
    const bestKube = Math.min(...kube);
    return [
      row(
        "jobs",
        `Job of ${completions} completions, parallelism ${parallelism}, \`true\`: create → Complete`,
        summarize(kube),
        {
          concurrency: parallelism,
          reference: "floor below",
          note: `best ${fmt(bestKube)} = ${(bestKube / bestFloor).toFixed(2)}× the floor; rounds ${kube.map(fmt).join(", ")}`,
        },
      ),
      row(
        "jobs",
        `floor: docker ${completions} sandbox+\`true\` pairs, ${parallelism} at a time, user-defined network`,
        summarize(floor),
        { concurrency: parallelism, note: `rounds ${floor.map(fmt).join(", ")}` },
      ),
    ];
  } finally {
    await removeFloorContainers(floorCluster).catch(() => undefined);
    await removeClusterObjects(floorCluster).catch(() => undefined);
    await cm.stop();
    await c.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import("./stats.js");
  runJobBench({ log: (m) => process.stderr.write(`[bench] ${m}\n`) })
    .then((rows) => {
      console.log(formatTable(rows));
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
}
