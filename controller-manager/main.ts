// kubeling-controller-manager: the controllers that make the cluster's state converge, as
// kube-controller-manager (now: the ServiceAccount controller; the rest of issue 7 joins the table
// in controllers.ts). Flags keep upstream's names; each is also read from
// KUBELING_CONTROLLER_MANAGER_<FLAG> (pkg/runtime/flags.ts), LOG_LEVEL for --log-level. The shape of
// scheduler/main.ts: flags → logger → client → ControllerManagerApp → run until the shutdown
// signal → drain. Exits 1 when it loses the leader lease (as upstream), 0 on SIGTERM/SIGINT.

import type { Command } from "commander";
import { ApiClient } from "#pkg/client/client.js";
import {
  addLeaderElectionFlags,
  type LeaderElectionFlags,
  leaderElectionConfig,
} from "#pkg/controller/leader-config.js";
import { componentCommand, countArg, flag, listArg, portArg, runMain } from "#pkg/runtime/flags.js";
import { HealthServer } from "#pkg/runtime/health-server.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { PrometheusWorkQueueMetricsProvider, setWorkQueueMetricsProvider } from "#pkg/workqueue/metrics.js";
import { ControllerManagerApp, LEASE_NAME, LEASE_NAMESPACE } from "./app.js";
import { CONTROLLERS, enabledControllers } from "./controllers.js";

interface Flags extends LeaderElectionFlags {
  kubeconfig?: string;
  controllers: string[];
  concurrentSyncs: number;
  bindAddress: string;
  securePort: number;
  logLevel: string;
}

function program() {
  const cmd = componentCommand(
    "kubeling-controller-manager",
    "Runs the controllers that make the cluster converge (as kube-controller-manager).",
    "KUBELING_CONTROLLER_MANAGER_",
  )
    // No env: KUBECONFIG is read as kubectl reads it (a list of paths, the first that exists).
    .addOption(
      flag("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, ~/.kube/config)", {
        env: false,
      }),
    )
    .addOption(
      flag(
        "--controllers <list>",
        `controllers to run: '*' all enabled by default, 'foo' enables foo, '-foo' disables it (known: ${Object.keys(CONTROLLERS).join(", ")})`,
        { default: ["*"], defaultDescription: "*", parse: listArg },
      ),
    )
    .addOption(flag("--concurrent-syncs <n>", "sync loops per controller", { default: 5, parse: countArg }));
  addLeaderElectionFlags(cmd, { namespace: LEASE_NAMESPACE, name: LEASE_NAME, what: "running controllers" });
  return cmd
    .addOption(flag("--bind-address <ip>", "address for /healthz, /readyz and /metrics", { default: "0.0.0.0" }))
    .addOption(
      flag("--secure-port <port>", "port for /healthz, /readyz and /metrics (plain HTTP here; 0 = any)", {
        default: 10257,
        parse: portArg,
      }),
    )
    .addOption(flag("--log-level <level>", "pino level", { env: "LOG_LEVEL", default: "info" }))
    .addHelpText("after", "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_FORMAT=json.\n");
}

/** The --controllers to run; an unknown name is a usage error (exit 1, the known names listed). */
function controllersOf(cmd: Command, flags: string[]): string[] {
  try {
    return enabledControllers(flags);
  } catch (err) {
    return cmd.error(`error: --controllers: ${(err as Error).message}`);
  }
}

async function main(): Promise<void> {
  const cmd = program().parse(process.argv);
  const f = cmd.opts<Flags>();
  const controllers = controllersOf(cmd, f.controllers);
  const log = createLogger("controller-manager", f.logLevel);
  const signal = shutdownSignal({ log });
  const client = ApiClient.fromKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const registry = newRegistry();
  // Every named WorkQueue of the process reports workqueue_*{name} here.
  setWorkQueueMetricsProvider(new PrometheusWorkQueueMetricsProvider(registry));
  const app = new ControllerManagerApp({
    client,
    controllers,
    workers: f.concurrentSyncs,
    ...leaderElectionConfig(f),
    registry,
    log,
  });
  const health = new HealthServer({ registry, readyz: { informers: () => app.hasSynced() || "not synced" } });
  const port = await health.listen(f.securePort, f.bindAddress);
  log.info(
    { port, address: f.bindAddress, controllers, leaderElect: f.leaderElect, identity: app.identity },
    "kubeling-controller-manager serving /healthz /readyz /metrics",
  );

  const result = await app.run(signal);

  await health.close();
  await client.close();
  if (result === "lost-leadership") {
    log.error("leader election lost");
    process.exit(1);
  }
  log.info("controller-manager stopped");
}

runMain(main);
