// kubeling-controller-manager: the controllers that make the cluster's state converge, as
// kube-controller-manager (the table in controllers.ts: deployment, replicaset, replicationcontroller,
// garbagecollector, namespace, nodelifecycle, taint eviction, podgc, disruption, serviceaccount,
// root-ca-certificate-publisher-controller, ...).
// Flags keep upstream's names; each is also read from
// KUBELING_CONTROLLER_MANAGER_<FLAG> (pkg/runtime/flags.ts), LOG_LEVEL for --log-level. The shape of
// scheduler/main.ts: flags → logger → client → ControllerManagerApp → run until the shutdown
// signal → drain. Exits 1 when it loses the leader lease (as upstream), 0 on SIGTERM/SIGINT.

import { readFileSync } from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import { ApiClient } from "#pkg/client/client.js";
import {
  addLeaderElectionFlags,
  type LeaderElectionFlags,
  leaderElectionConfig,
} from "#pkg/controller/leader-config.js";
import {
  componentCommand,
  countArg,
  durationArg,
  flag,
  listArg,
  nonNegativeNumberArg,
  positiveDurationArg,
  runMain,
} from "#pkg/runtime/flags.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { addDelegatedServingFlags, DelegatedServer, type DelegatedServingFlags } from "#pkg/server/delegated.js";
import { PrometheusWorkQueueMetricsProvider, setWorkQueueMetricsProvider } from "#pkg/workqueue/metrics.js";
import { ControllerManagerApp, LEASE_NAME, LEASE_NAMESPACE } from "./app.js";
import type { ControllerOptions } from "./controller.js";
import { CONCURRENCY_FLAGS, CONTROLLERS, enabledControllers } from "./controllers.js";
import { DEFAULT_POD_FAILURE_BACKOFF_MS } from "./job/backoff.js";
import {
  DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD,
  DEFAULT_NODE_EVICTION_RATE,
  DEFAULT_SECONDARY_NODE_EVICTION_RATE,
  DEFAULT_UNHEALTHY_ZONE_THRESHOLD,
} from "./nodelifecycle/node-lifecycle-controller.js";
import { DEFAULT_TERMINATED_POD_GC_THRESHOLD } from "./podgc/gc-controller.js";
import { DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS } from "./resourcequota/resource-quota-controller.js";
import { DEFAULT_HELPER_IMAGE, DEFAULT_STORAGE_CLASS } from "./volume/localpath/provisioner.js";
import { DEFAULT_SYNC_PERIOD_MS as DEFAULT_PV_SYNC_PERIOD_MS } from "./volume/persistentvolume/pv-controller.js";

interface Flags extends LeaderElectionFlags, DelegatedServingFlags {
  kubeconfig?: string;
  controllers: string[];
  concurrentSyncs: number;
  nodeMonitorPeriod: number;
  nodeMonitorGracePeriod: number;
  nodeStartupGracePeriod: number;
  nodeEvictionRate: number;
  secondaryNodeEvictionRate: number;
  largeClusterSizeThreshold: number;
  unhealthyZoneThreshold: number;
  terminatedPodGcThreshold: number;
  resourceQuotaSyncPeriod: number;
  endpointUpdatesBatchPeriod: number;
  endpointsliceUpdatesBatchPeriod: number;
  maxEndpointsPerSlice: number;
  mirroringMaxEndpointsPerSubset: number;
  jobPodFailureBackoff: number;
  rootCaFile?: string;
  pvclaimbinderSyncPeriod: number;
  localPathHelperImage: string;
  localPathStorageClass: string;
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
    .addOption(
      flag("--concurrent-syncs <n>", "sync loops of each controller without a --concurrent-*-syncs flag of its own", {
        default: 5,
        parse: countArg,
      }),
    );
  for (const [name, c] of Object.entries(CONCURRENCY_FLAGS)) {
    cmd.addOption(
      flag(`--${c.flag} <n>`, `sync loops of the ${name} controller`, { default: c.default, parse: countArg }),
    );
  }
  cmd
    // nodelifecycle (upstream NodeLifecycleControllerConfiguration), podgc.
    .addOption(
      flag(
        "--node-monitor-period <dur>",
        "how often node health (Lease, Ready heartbeat) is checked",
        duration(5_000, "5s"),
      ),
    )
    .addOption(
      flag(
        "--node-monitor-grace-period <dur>",
        "a node not heard from for this long is marked Ready=Unknown (then tainted unreachable)",
        duration(50_000, "50s"),
      ),
    )
    .addOption(
      flag(
        "--node-startup-grace-period <dur>",
        "the same for a node whose kubelet has never posted status",
        duration(60_000, "1m0s"),
      ),
    )
    .addOption(
      flag("--node-eviction-rate <qps>", "nodes tainted NoExecute per second in a healthy zone", {
        default: DEFAULT_NODE_EVICTION_RATE,
        parse: nonNegativeNumberArg,
      }),
    )
    .addOption(
      flag(
        "--secondary-node-eviction-rate <qps>",
        "nodes tainted per second in a partially disrupted zone of more than --large-cluster-size-threshold nodes",
        { default: DEFAULT_SECONDARY_NODE_EVICTION_RATE, parse: nonNegativeNumberArg },
      ),
    )
    .addOption(
      flag(
        "--large-cluster-size-threshold <n>",
        "zones of at most this many nodes stop tainting when partially disrupted",
        { default: DEFAULT_LARGE_CLUSTER_SIZE_THRESHOLD, parse: countArg },
      ),
    )
    .addOption(
      flag(
        "--unhealthy-zone-threshold <fraction>",
        "fraction of not-Ready nodes (at least 3) that makes a zone partially disrupted",
        { default: DEFAULT_UNHEALTHY_ZONE_THRESHOLD, parse: nonNegativeNumberArg },
      ),
    )
    .addOption(
      flag(
        "--terminated-pod-gc-threshold <n>",
        "terminated pods kept before the oldest are deleted (0 keeps them all)",
        { default: DEFAULT_TERMINATED_POD_GC_THRESHOLD, parse: countArg },
      ),
    )
    .addOption(
      flag(
        "--resource-quota-sync-period <dur>",
        "how often every ResourceQuota's usage is recomputed",
        duration(DEFAULT_RESOURCE_QUOTA_SYNC_PERIOD_MS, "5m0s"),
      ),
    )
    .addOption(
      flag(
        "--endpoint-updates-batch-period <dur>",
        "how long pod changes wait to be folded into one Endpoints update (0: at once)",
        { default: 0, defaultDescription: "0s", parse: durationArg },
      ),
    )
    .addOption(
      flag(
        "--endpointslice-updates-batch-period <dur>",
        "how long pod changes wait to be folded into one EndpointSlice update (0: at once)",
        { default: 0, defaultDescription: "0s", parse: durationArg },
      ),
    )
    .addOption(
      flag(
        "--max-endpoints-per-slice <n>",
        "the most endpoints the EndpointSlice controller puts in one slice (1-1000)",
        {
          default: 100,
          parse: sliceSizeArg,
        },
      ),
    )
    .addOption(
      flag(
        "--mirroring-max-endpoints-per-subset <n>",
        "the most addresses of one Endpoints subset mirrored into a slice (1-1000)",
        { default: 1000, parse: sliceSizeArg },
      ),
    )
    .addOption(
      flag(
        "--job-pod-failure-backoff <dur>",
        "kubeling's: the Job controller's first wait before replacing a failed pod, doubled per failure up to 6m (upstream's is a fixed 10s)",
        duration(DEFAULT_POD_FAILURE_BACKOFF_MS, "10s"),
      ),
    )
    .addOption(
      flag(
        "--pvclaimbinder-sync-period <dur>",
        "how often the PV binder syncs every PersistentVolume and PersistentVolumeClaim again",
        duration(DEFAULT_PV_SYNC_PERIOD_MS, "15s"),
      ),
    )
    .addOption(
      flag(
        "--local-path-helper-image <image>",
        "image of the local-path provisioner's helper pods, which make and remove volume directories on a node (a busybox)",
        { default: DEFAULT_HELPER_IMAGE },
      ),
    )
    .addOption(
      flag(
        "--local-path-storage-class <name>",
        "the default StorageClass of the local-path provisioner, created at start when absent ('' creates none)",
        { default: DEFAULT_STORAGE_CLASS },
      ),
    )
    .addOption(
      flag(
        "--root-ca-file <path>",
        "the CA bundle published to every namespace as the ConfigMap kube-root-ca.crt (default: the kubeconfig's certificate-authority)",
      ),
    );
  addLeaderElectionFlags(cmd, { namespace: LEASE_NAMESPACE, name: LEASE_NAME, what: "running controllers" });
  addDelegatedServingFlags(cmd, { port: 10257 });
  return cmd
    .addOption(flag("--log-level <level>", "pino level", { env: "LOG_LEVEL", default: "info" }))
    .addHelpText("after", "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_FORMAT=json.\n");
}

/** An endpoints-per-slice count: 1 to 1000, as upstream validates it. */
function sliceSizeArg(value: string): number {
  const n = countArg(value);
  if (n < 1 || n > 1000) throw new InvalidArgumentError("must be between 1 and 1000");
  return n;
}

const duration = (ms: number, shown: string) => ({
  default: ms,
  defaultDescription: shown,
  parse: positiveDurationArg,
});

/** --concurrent-deployment-syncs=3 → { deployment: 3 } (commander camel-cases the flag names). */
function workersOf(opts: Record<string, unknown>): Record<string, number> {
  const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
  return Object.fromEntries(
    Object.entries(CONCURRENCY_FLAGS).map(([name, c]) => [name, Number(opts[camel(c.flag)] ?? c.default)]),
  );
}

/** The controllers' settings from the flags (ControllerContext.options). */
function controllerOptions(f: Flags): ControllerOptions {
  return {
    nodeLifecycle: {
      nodeMonitorPeriodMs: f.nodeMonitorPeriod,
      nodeMonitorGracePeriodMs: f.nodeMonitorGracePeriod,
      nodeStartupGracePeriodMs: f.nodeStartupGracePeriod,
      nodeEvictionRate: f.nodeEvictionRate,
      secondaryNodeEvictionRate: f.secondaryNodeEvictionRate,
      largeClusterSizeThreshold: f.largeClusterSizeThreshold,
      unhealthyZoneThreshold: f.unhealthyZoneThreshold,
    },
    podGC: { terminatedPodGCThreshold: f.terminatedPodGcThreshold },
    resourceQuota: { resyncPeriodMs: f.resourceQuotaSyncPeriod },
    endpoint: { batchPeriodMs: f.endpointUpdatesBatchPeriod },
    endpointSlice: { batchPeriodMs: f.endpointsliceUpdatesBatchPeriod, maxEndpointsPerSlice: f.maxEndpointsPerSlice },
    endpointSliceMirroring: { maxEndpointsPerSubset: f.mirroringMaxEndpointsPerSubset },
    job: { podFailureBackoffMs: f.jobPodFailureBackoff },
    persistentVolume: { syncPeriodMs: f.pvclaimbinderSyncPeriod },
    localPath: { helperImage: f.localPathHelperImage, storageClass: f.localPathStorageClass },
    ...(f.rootCaFile ? { rootCA: readFileSync(f.rootCaFile, "utf8") } : {}),
  };
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
    workersOf: workersOf(cmd.opts()),
    controllerOptions: controllerOptions(f),
    ...leaderElectionConfig(f),
    registry,
    log,
  });
  // The secure port: HTTPS, /metrics for users allowed `get /metrics` (pkg/server/delegated.ts).
  const health = await DelegatedServer.create({
    flags: f,
    client,
    clientFor: (path) => ApiClient.fromKubeconfig({ path }),
    pairName: "kube-controller-manager",
    health: { registry, readyz: { informers: () => app.hasSynced() || "not synced" } },
    log,
  });
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
