// `npm run bench`: starts its own etcd and the real API server (the test harness), runs the
// benchmark suites, prints one table and writes the figures as JSON to bench/results/.
// Figures to read them against: shared reference/PERF.md (the "PERF.md reference" column).
//
// Adding a suite: write bench/<name>.ts exporting a function that returns BenchRow[], and
// register it in SUITES below; use ctx.etcd() / ctx.apiserver() so the processes start once.

import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { Command, InvalidArgumentError } from "commander";
import { startApiServer, type TestApiServer } from "../test/harness/apiserver.js";
import { startEtcd, type TestEtcd } from "../test/harness/etcd.js";
import { benchApi } from "./api.js";
import { runAuthzBench } from "./authz.js";
import { runDeploymentBench } from "./deployments.js";
import { runDnsBench } from "./dns.js";
import { runEncryptionBench } from "./encryption.js";
import { benchEtcd } from "./etcd.js";
import { BenchHttp } from "./http.js";
import { runJobBench } from "./jobs.js";
import { runPodStartupBench } from "./pods.js";
import { benchProtobuf } from "./protobuf.js";
import { runProxyBench } from "./proxy.js";
import { runSchedulerBench } from "./scheduler.js";
import { type BenchRow, formatTable } from "./stats.js";
import { benchWatch } from "./watch.js";

export interface BenchOptions {
  durationMs: number;
  watchers: number;
  writes: number;
  listObjects: number;
  listSamples: number;
}

/** Processes a suite needs, started on first use and shared by every suite. */
export interface BenchContext {
  opts: BenchOptions;
  etcd(): Promise<TestEtcd>;
  apiserver(): Promise<TestApiServer>;
  log(msg: string): void;
}

type Suite = (ctx: BenchContext) => Promise<BenchRow[]>;

const SUITES: Record<string, Suite> = {
  etcd: async (ctx) => benchEtcd({ endpoint: (await ctx.etcd()).endpoint, durationMs: ctx.opts.durationMs }),
  api: async (ctx) => {
    const http = new BenchHttp(await ctx.apiserver(), 16);
    try {
      return await benchApi({
        http,
        durationMs: ctx.opts.durationMs,
        listObjects: ctx.opts.listObjects,
        listSamples: ctx.opts.listSamples,
      });
    } finally {
      await http.close();
    }
  },
  // Gets and lists of 1,000 pods (--list-objects) in protobuf next to JSON, with their ratio.
  protobuf: async (ctx) => {
    const http = new BenchHttp(await ctx.apiserver(), 16);
    try {
      return await benchProtobuf({ http, durationMs: ctx.opts.durationMs, pods: ctx.opts.listObjects });
    } finally {
      await http.close();
    }
  },
  watch: async (ctx) => {
    const target = await ctx.apiserver();
    const rows = await benchWatch({ target, watchers: 1, writes: ctx.opts.writes });
    ctx.log(`watch: 1 watcher done; opening ${ctx.opts.watchers}`);
    rows.push(...(await benchWatch({ target, watchers: ctx.opts.watchers, writes: ctx.opts.writes })));
    return rows;
  },
  // Two API servers of their own on the shared etcd: AlwaysAllow and Node,RBAC, side by side.
  authz: async (ctx) =>
    runAuthzBench({ etcd: (await ctx.etcd()).endpoint, durationMs: ctx.opts.durationMs, log: ctx.log }),
  // Four API servers of their own on the shared etcd: no encryption, aescbc, aesgcm, secretbox.
  encryption: async (ctx) =>
    runEncryptionBench({ etcd: (await ctx.etcd()).endpoint, durationMs: ctx.opts.durationMs, log: ctx.log }),
  // kubeling-dns on loopback against the shared API server, beside a fixed-answer floor.
  dns: async (ctx) => runDnsBench({ api: await ctx.apiserver(), durationMs: ctx.opts.durationMs, log: ctx.log }),
  scheduler: async (ctx) => (await runSchedulerBench({ target: await ctx.apiserver(), log: ctx.log })).rows,
  // Its own API server (on the shared etcd) + scheduler + two kubelets: no simulated nodes from other suites.
  pods: async (ctx) => (await runPodStartupBench({ etcd: (await ctx.etcd()).endpoint, log: ctx.log })).rows,
  // Its own cluster again, plus kubeling-controller-manager.
  deployments: async (ctx) => runDeploymentBench({ etcd: (await ctx.etcd()).endpoint, log: ctx.log }),
  // Its own cluster plus kubeling-controller-manager: a 20-completion Job next to its Docker floor.
  jobs: async (ctx) => runJobBench({ etcd: (await ctx.etcd()).endpoint, log: ctx.log }),
  // Its own cluster with a service slot; kubeling-proxy in each mode (root: it programs the host).
  proxy: async (ctx) =>
    runProxyBench({ etcd: (await ctx.etcd()).endpoint, durationMs: ctx.opts.durationMs, log: ctx.log }),
};

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`not a positive integer: ${v}`);
  return n;
}

function etcdVersion(): string {
  try {
    return (
      execFileSync(process.env.ETCD_BIN ?? "/usr/bin/etcd", ["--version"], { encoding: "utf8" }).split("\n")[0] ?? ""
    );
  } catch {
    return "unknown";
  }
}

async function main(): Promise<void> {
  const cmd = new Command("bench")
    .description("kubeling benchmarks: raw etcd, API server requests, watch fan-out, authorization's cost, ...")
    .option("--only <suites>", `comma-separated subset of: ${Object.keys(SUITES).join(", ")}`)
    .option("--duration <ms>", "length of each throughput run", positiveInt, 3000)
    .option("--watchers <n>", "watchers in the fan-out run", positiveInt, 500)
    .option("--writes <n>", "writes per watch run", positiveInt, 100)
    .option("--list-objects <n>", "objects in the listed namespace", positiveInt, 1000)
    .option("--list-samples <n>", "samples per list variant", positiveInt, 20)
    .option("--out <dir>", "where the JSON goes", join(dirname(fileURLToPath(import.meta.url)), "results"))
    .parse(process.argv);
  const o = cmd.opts<{
    only?: string;
    duration: number;
    watchers: number;
    writes: number;
    listObjects: number;
    listSamples: number;
    out: string;
  }>();
  const names = o.only ? o.only.split(",").map((s) => s.trim()) : Object.keys(SUITES);
  for (const n of names)
    if (!SUITES[n]) throw new Error(`unknown suite "${n}" (have ${Object.keys(SUITES).join(", ")})`);

  const log = (msg: string): void => {
    process.stderr.write(`[bench] ${msg}\n`);
  };
  let etcd: Promise<TestEtcd> | undefined;
  let api: Promise<TestApiServer> | undefined;
  const ctx: BenchContext = {
    opts: {
      durationMs: o.duration,
      watchers: o.watchers,
      writes: o.writes,
      listObjects: o.listObjects,
      listSamples: o.listSamples,
    },
    etcd: () => {
      etcd ??= startEtcd();
      return etcd;
    },
    apiserver: () => {
      api ??= ctx.etcd().then((e) => startApiServer({ etcd: e.endpoint, extraArgs: ["--log-level=warn"] }));
      return api;
    },
    log,
  };

  const started = new Date();
  // Other work on the box skews every figure: record the load the run started under.
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const rows: BenchRow[] = [];
  const timings: Record<string, number> = {};
  let failed = false;
  const stop = async (): Promise<void> => {
    await Promise.allSettled([api?.then((a) => a.stop())]);
    await Promise.allSettled([etcd?.then((e) => e.stop())]);
  };
  process.once("SIGINT", () => {
    void stop().finally(() => process.exit(130));
  });
  try {
    for (const name of names) {
      const t = performance.now();
      log(`${name}: running`);
      try {
        rows.push(...(await (SUITES[name] as Suite)(ctx)));
      } catch (err) {
        failed = true;
        log(`${name}: FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      timings[name] = Math.round(performance.now() - t);
      log(`${name}: ${(timings[name] / 1000).toFixed(1)} s`);
    }
  } finally {
    await stop();
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    etcd: etcdVersion(),
    loadAvgAtStart: loadAtStart,
  };
  console.log(
    `\nkubeling bench, ${started.toISOString()} (${machine.cpus} cores, node ${machine.node}, ${machine.etcd}, load ${loadAtStart.join(" ")}); latencies in ms\n`,
  );
  console.log(formatTable(rows));
  mkdirSync(o.out, { recursive: true });
  const file = join(o.out, `bench-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ started: started.toISOString(), machine, options: ctx.opts, timingsMs: timings, rows }, null, 2)}\n`,
  );
  console.log(`\nwrote ${file}`);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
