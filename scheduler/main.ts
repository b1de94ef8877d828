// kubeling-scheduler: assigns pending pods to nodes (filter, score, bind), as kube-scheduler.
// Flags keep upstream's names. Exits 1 when it loses the leader lease (as upstream), 0 on
// SIGTERM/SIGINT after finishing in-flight bindings.

import { Command, Option } from "commander";
import { ApiClient } from "#pkg/client/client.js";
import { createLogger } from "#pkg/runtime/log.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { LEASE_NAME, LEASE_NAMESPACE, SchedulerApp } from "./app.js";
import { DEFAULT_SCHEDULER_NAME } from "./scheduler.js";
import { SchedulerServer } from "./server.js";

interface Flags {
  kubeconfig?: string;
  leaderElect: boolean;
  leaderElectResourceNamespace: string;
  leaderElectResourceName: string;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
  schedulerName: string;
  bindAddress: string;
  securePort?: string;
  port?: string;
  logLevel?: string;
}

function parseBool(v: string): boolean {
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw new Error(`invalid boolean "${v}"`);
}

/** Durations as Go writes them: "15s", "500ms", "1m"; a bare number is seconds. */
function seconds(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (!m) throw new Error(`invalid duration "${v}"`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n / 1000 : m[2] === "m" ? n * 60 : n;
}

function program(): Command {
  return new Command("kubeling-scheduler")
    .description("Assigns pending pods to nodes: filter, score, assume, bind (as kube-scheduler).")
    .addHelpText("after", "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_LEVEL, LOG_FORMAT=json.\n")
    .option("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, ~/.kube/config)")
    .addOption(
      new Option("--leader-elect [bool]", "elect a leader on a Lease before scheduling (true|false)")
        .default(true)
        .argParser(parseBool),
    )
    .option("--leader-elect-resource-namespace <ns>", "namespace of the leader Lease", LEASE_NAMESPACE)
    .option("--leader-elect-resource-name <name>", "name of the leader Lease", LEASE_NAME)
    .option("--leader-elect-lease-duration <dur>", "lease duration", "15s")
    .option("--leader-elect-renew-deadline <dur>", "renew deadline", "10s")
    .option("--leader-elect-retry-period <dur>", "retry period", "2s")
    .option("--scheduler-name <name>", "schedule pods whose spec.schedulerName is this", DEFAULT_SCHEDULER_NAME)
    .option("--bind-address <ip>", "address for /healthz, /readyz and /metrics", "0.0.0.0")
    .option("--secure-port <port>", "port for /healthz, /readyz and /metrics (plain HTTP here; 0 = any)", "10259")
    .option("--port <port>", "alias of --secure-port")
    .option("--log-level <level>", "pino level (default: $LOG_LEVEL or info)");
}

async function main(): Promise<void> {
  const cmd = program();
  cmd.parse(process.argv);
  const f = cmd.opts<Flags>();
  const log = createLogger("scheduler", f.logLevel ?? process.env.LOG_LEVEL ?? "info");
  const signal = shutdownSignal({ log });
  const client = ApiClient.fromKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const app = new SchedulerApp({
    client,
    schedulerName: f.schedulerName,
    leaderElect: f.leaderElect,
    leaseNamespace: f.leaderElectResourceNamespace,
    leaseName: f.leaderElectResourceName,
    leaseDurationSeconds: seconds(f.leaderElectLeaseDuration),
    renewDeadlineSeconds: seconds(f.leaderElectRenewDeadline),
    retryPeriodSeconds: seconds(f.leaderElectRetryPeriod),
    log,
  });
  const server = new SchedulerServer(app);
  const port = await server.listen(Number(f.port ?? f.securePort ?? "10259"), f.bindAddress);
  log.info(
    {
      port,
      address: f.bindAddress,
      schedulerName: f.schedulerName,
      leaderElect: f.leaderElect,
      identity: app.identity,
    },
    "kubeling-scheduler serving /healthz /readyz /metrics",
  );
  const result = await app.run(signal);
  await server.close();
  await client.close();
  if (result === "lost-leadership") {
    log.error("leader election lost");
    process.exit(1);
  }
  log.info("scheduler stopped");
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
