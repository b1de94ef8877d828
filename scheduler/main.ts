// kubeling-scheduler: assigns pending pods to nodes (filter, score, bind), as kube-scheduler.
// Flags keep upstream's names; each is also read from KUBELING_SCHEDULER_<FLAG> (the scheduler's
// own prefix: pkg/runtime/flags.ts), LOG_LEVEL for --log-level. The shape every component's main.ts copies (pkg/runtime/flags.ts):
// flags → logger → client → informers (SchedulerApp) → run until the shutdown signal → drain.
// Exits 1 when it loses the leader lease (as upstream), 0 on SIGTERM/SIGINT after finishing
// in-flight bindings.

import { ApiClient } from "#pkg/client/client.js";
import {
  addLeaderElectionFlags,
  type LeaderElectionFlags,
  leaderElectionConfig,
} from "#pkg/controller/leader-config.js";
import { componentCommand, flag, portArg, runMain } from "#pkg/runtime/flags.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { addDelegatedServingFlags, DelegatedServer, type DelegatedServingFlags } from "#pkg/server/delegated.js";
import { LEASE_NAME, LEASE_NAMESPACE, SchedulerApp } from "./app.js";
import { DEFAULT_SCHEDULER_NAME } from "./scheduler.js";

interface Flags extends LeaderElectionFlags, DelegatedServingFlags {
  kubeconfig?: string;
  schedulerName: string;
  port?: number;
  logLevel: string;
}

function program() {
  const cmd = componentCommand(
    "kubeling-scheduler",
    "Assigns pending pods to nodes: filter, score, assume, bind (as kube-scheduler).",
    "KUBELING_SCHEDULER_",
  )
    // No env: KUBECONFIG is read as kubectl reads it (a list of paths, the first that exists).
    .addOption(
      flag("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, ~/.kube/config)", {
        env: false,
      }),
    );
  addLeaderElectionFlags(cmd, { namespace: LEASE_NAMESPACE, name: LEASE_NAME, what: "scheduling" });
  addDelegatedServingFlags(cmd, { port: 10259 });
  return cmd
    .addOption(
      flag("--scheduler-name <name>", "schedule pods whose spec.schedulerName is this", {
        default: DEFAULT_SCHEDULER_NAME,
      }),
    )
    .addOption(flag("--port <port>", "alias of --secure-port", { env: false, parse: portArg }))
    .addOption(flag("--log-level <level>", "pino level", { env: "LOG_LEVEL", default: "info" }))
    .addHelpText("after", "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_FORMAT=json.\n");
}

async function main(): Promise<void> {
  const f = program().parse(process.argv).opts<Flags>();
  const log = createLogger("scheduler", f.logLevel);
  const signal = shutdownSignal({ log });
  const client = ApiClient.fromKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const registry = newRegistry();
  const app = new SchedulerApp({
    client,
    schedulerName: f.schedulerName,
    ...leaderElectionConfig(f),
    registry,
    log,
  });
  // The secure port: HTTPS, /metrics for users allowed `get /metrics` (pkg/server/delegated.ts).
  const health = await DelegatedServer.create({
    flags: f,
    client,
    clientFor: (path) => ApiClient.fromKubeconfig({ path }),
    pairName: "kube-scheduler",
    health: { registry, readyz: { informers: () => app.hasSynced() || "not synced" } },
    log,
  });
  const port = await health.listen(f.port ?? f.securePort, f.bindAddress);
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

  // Runs until the signal (or a lost lease); in-flight bindings and events are finished inside.
  const result = await app.run(signal);

  await health.close();
  await client.close();
  if (result === "lost-leadership") {
    log.error("leader election lost");
    process.exit(1);
  }
  log.info("scheduler stopped");
}

runMain(main);
